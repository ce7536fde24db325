import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { User } from './user.entity';

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

  /** Active agents, oldest id first: who hears about escalations. */
  async activeAgents(m: EntityManager): Promise<UserContact[]> {
    const users = await m.find(User, { where: { role: 'agent', isActive: true }, order: { id: 'ASC' } });
    return users.map(toContact);
  }
}

function toContact(u: User): UserContact {
  return { id: u.id, name: u.name, email: u.email, phone: u.phone ?? null, isActive: u.isActive };
}
