import { Injectable } from '@nestjs/common';
import { escapeLike } from '@trektribe/common';
import { EntityManager, In } from 'typeorm';
import { toUserView, User, UserView } from './user.entity';

/** How many rows each column's look-up of a customer search may bring before they are ranked. */
const SEARCH_BRANCH_ROWS = 200;

/** Who the support desk serves: the people who book and the people who organize. */
const CUSTOMER_ROLES = ['traveler', 'organizer'];

/** How another lib may reach a person: read from `users`, which only auth writes. */
export interface UserContact {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  role: string;
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
   * Up to `limit` customers (travelers and organizers) whose name, email or phone contains `text`,
   * case-insensitive: an exact email first, then by name. Digits typed with spaces or dashes match
   * the stored phone (`+919812345678`). `text` must hold 3 letters or digits in a row (the DTO
   * checks), which is what a trigram index can look up.
   *
   * Never a sequential scan over users (issue 13): each column is looked up in its own trigram index
   * (`idx_users_*_trgm`) for at most SEARCH_BRANCH_ROWS rows, then the union is ranked. The planner is
   * told not to scan (`enable_seqscan = off`, for this transaction only) because it would for a small
   * table or a term that matches most rows, which is where a scan hurts most at 100,000 users.
   */
  async searchCustomers(m: EntityManager, text: string, limit: number): Promise<UserView[]> {
    const like = `%${escapeLike(text)}%`;
    const digits = text.replace(/[\s()+-]/g, '');
    const phoneLike = /^\d{3,}$/.test(digits) ? `%${digits}%` : null;
    const branch = (match: string) => `(SELECT id FROM "users" WHERE ${match} LIMIT ${SEARCH_BRANCH_ROWS})`;
    const candidates = [
      branch('name ILIKE :like'),
      branch('email ILIKE :like'),
      ...(phoneLike ? [branch('phone LIKE :phoneLike')] : []),
    ].join(' UNION ');
    return m.transaction(async (tm) => {
      await tm.query('SET LOCAL enable_seqscan = off');
      const users = await tm
        .getRepository(User)
        .createQueryBuilder('u')
        .where(`u.id IN (${candidates})`)
        // Staff are filtered after the look-ups: inside them, the role index would replace the trigram one.
        .andWhere('u.role IN (:...roles)', { roles: CUSTOMER_ROLES })
        .orderBy('(u.email = lower(:exact))', 'DESC')
        .addOrderBy('u.name', 'ASC')
        .addOrderBy('u.id', 'ASC')
        .limit(limit)
        .setParameters({ like, phoneLike, exact: text })
        .getMany();
      return users.map(toUserView);
    });
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
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    phone: u.phone ?? null,
    role: u.role,
    isActive: u.isActive,
  };
}
