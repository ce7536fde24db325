import { Injectable } from '@nestjs/common';
import { escapeLike } from '@trektribe/common';
import { EntityManager, In } from 'typeorm';
import { toUserView, User, UserView } from './user.entity';

/** Who the support desk serves: the people who book and the people who organize. */
const CUSTOMER_ROLES = ['traveler', 'organizer'];

/** How another lib may reach a person: read from `users`, which only auth writes. */
export interface UserContact {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  isActive: boolean;
}

/**
 * The users others need to address (messages, the gateway's customer record), read in the caller's
 * transaction. Other libs ask here instead of querying `users` themselves.
 */
@Injectable()
export class UserDirectory {
  /** Contacts by id; ids with no user are left out. */
  async contactsOf(m: EntityManager, ids: string[]): Promise<Map<string, UserContact>> {
    if (ids.length === 0) return new Map();
    const users = await m.find(User, { where: { id: In([...new Set(ids)]) } });
    return new Map(users.map((u) => [u.id, toContact(u)]));
  }

  async contactOf(m: EntityManager, id: string): Promise<UserContact | undefined> {
    return (await this.contactsOf(m, [id])).get(id);
  }

  /**
   * Customers (travelers and organizers) whose name, email or phone contains `text`, case-insensitive:
   * an exact email first, then by name. Served by the trigram indexes `idx_users_*_trgm`, so `text`
   * should be 3+ characters (fewer cannot use them). Digits typed with spaces or dashes match the
   * stored phone (`+919812345678`).
   */
  async searchCustomers(m: EntityManager, text: string, limit: number): Promise<UserView[]> {
    const like = `%${escapeLike(text)}%`;
    const digits = text.replace(/[\s()+-]/g, '');
    const phoneLike = /^\d{3,}$/.test(digits) ? `%${digits}%` : null;
    const qb = m
      .getRepository(User)
      .createQueryBuilder('u')
      .where('u.role IN (:...roles)', { roles: CUSTOMER_ROLES })
      .andWhere(
        phoneLike
          ? '(u.name ILIKE :like OR u.email ILIKE :like OR u.phone LIKE :phoneLike)'
          : '(u.name ILIKE :like OR u.email ILIKE :like)',
        { like, phoneLike },
      )
      .orderBy('(u.email = lower(:exact))', 'DESC')
      .addOrderBy('u.name', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .setParameter('exact', text)
      .limit(limit);
    return (await qb.getMany()).map(toUserView);
  }

  /** A customer's profile (a traveler or organizer, active or not); undefined for anyone else. */
  async customerProfile(m: EntityManager, id: string): Promise<UserView | undefined> {
    const user = await m.findOne(User, { where: { id, role: In(CUSTOMER_ROLES) } });
    return user ? toUserView(user) : undefined;
  }

  /** An active agent by id (whom an admin may assign a ticket to); undefined otherwise. */
  async activeAgent(m: EntityManager, id: string): Promise<UserContact | undefined> {
    const user = await m.findOne(User, { where: { id, role: 'agent', isActive: true } });
    return user ? toContact(user) : undefined;
  }

  /** Active agents, oldest id first: who hears about escalations. */
  async activeAgents(m: EntityManager): Promise<UserContact[]> {
    const users = await m.find(User, { where: { role: 'agent', isActive: true }, order: { id: 'ASC' } });
    return users.map(toContact);
  }
}

function toContact(u: User): UserContact {
  return { id: u.id, name: u.name, email: u.email, phone: u.phone ?? null, isActive: u.isActive };
}
