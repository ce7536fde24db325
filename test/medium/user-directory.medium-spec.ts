import { Actor, UserDirectory } from '@trektribe/auth';
import type { EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { newUser } from '../support/services';

/**
 * UserDirectory: how other libs read a person from `users` (auth owns the table). Every expectation
 * is the `users` row itself, read back by SQL.
 */
describe('UserDirectory (auth facade)', () => {
  let t: ServiceApp;
  let directory: UserDirectory;
  let traveler: Actor;
  let organizer: Actor;
  beforeAll(async () => {
    t = await bootTestApp();
    directory = t.app.get(UserDirectory);
    traveler = await newUser(t, 'traveler');
    organizer = await newUser(t, 'organizer');
  });
  afterAll(async () => t?.close());

  const run = <T>(fn: (m: EntityManager) => Promise<T>) => t.db.transaction(fn);
  const unknown = '00000000-0000-4000-8000-000000000000';

  /** The contact as the `users` row has it. */
  async function row(id: string) {
    const [u] = await t.db.query(`SELECT id, name, email, phone, role, is_active FROM users WHERE id = $1`, [
      id,
    ]);
    return { id: u.id, name: u.name, email: u.email, phone: u.phone, role: u.role, isActive: u.is_active };
  }

  it('contactsOf/contactOf answer the known ids from their rows and leave unknown ids out (none: empty)', async () => {
    const contacts = await run((m) =>
      directory.contactsOf(m, [traveler.id, unknown, organizer.id, traveler.id]),
    );

    expect([...contacts.keys()].sort()).toEqual([traveler.id, organizer.id].sort());
    expect(contacts.get(traveler.id)).toEqual(await row(traveler.id));
    expect(contacts.get(organizer.id)).toEqual(await row(organizer.id));
    expect(contacts.has(unknown)).toBe(false);

    expect((await run((m) => directory.contactsOf(m, []))).size).toBe(0);
    expect((await run((m) => directory.contactsOf(m, [unknown]))).size).toBe(0);
    expect(await run((m) => directory.contactOf(m, unknown))).toBeUndefined();
    expect(await run((m) => directory.contactOf(m, organizer.id))).toEqual(await row(organizer.id));
  });

  it('a deactivated user is still a contact, marked inactive (the caller decides what that means)', async () => {
    const gone = await newUser(t, 'traveler');
    await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [gone.id]);

    const contact = await run((m) => directory.contactOf(m, gone.id));

    expect(contact).toEqual(await row(gone.id));
    expect(contact?.isActive).toBe(false);
  });

  it('activeAgents: the active agents only, oldest id first, as the users table has them', async () => {
    const agents = [await newUser(t, 'agent'), await newUser(t, 'agent'), await newUser(t, 'agent')];
    await newUser(t, 'admin');
    await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [agents[1].id]);

    const active = await run((m) => directory.activeAgents(m));

    const expected = (await t.db.query(
      `SELECT id FROM users WHERE role = 'agent' AND is_active ORDER BY id`,
    )) as { id: string }[];
    expect(active.map((c) => c.id)).toEqual(expected.map((r) => r.id));
    expect(active.map((c) => c.id).sort()).toEqual([agents[0].id, agents[2].id].sort());
    for (const c of active) expect(c).toEqual(await row(c.id));
  });
});
