import { AuditService, UnitOfWork } from '@trektribe/common';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows } from '../support/fixtures';

declare module '@trektribe/common' {
  interface DomainEvents {
    'test.ping': { entityId: string; refuse?: boolean };
    'test.unhandled': { entityId: string };
  }
}

/**
 * The unit of work (libs/common): after-commit work runs once the outermost transaction commits and
 * never on rollback; events reach their in-transaction handlers, whose refusal rolls the change
 * back; workers are kicked once per transaction; a required event without a handler stops the boot.
 */
describe('UnitOfWork (common)', () => {
  let t: ServiceApp;
  let uow: UnitOfWork;
  let audit: AuditService;
  const kicks: string[] = [];

  beforeAll(async () => {
    t = await bootTestApp();
    uow = t.app.get(UnitOfWork);
    audit = t.app.get(AuditService);
    uow.registerQueue({ name: 'test-queue', kick: () => kicks.push('test-queue') });
    uow.on('test.ping', async (tx, e) => {
      if (e.refuse) throw new Error('refused by the handler');
      await audit.record(tx.manager, {
        actor: null,
        action: 'test.pinged',
        entityType: 'thing',
        entityId: e.entityId,
      });
    });
  });
  afterAll(async () => t?.close());

  const write = (m: Parameters<AuditService['record']>[0], entityId: string) =>
    audit.record(m, { actor: null, action: 'test.written', entityType: 'thing', entityId });

  it('runs after-commit work once the transaction has committed, with the rows visible', async () => {
    const id = randomUUID();
    const seen: number[] = [];
    await uow.run(async (tx) => {
      await write(tx.manager, id);
      tx.afterCommit(() => seen.push(1));
      tx.afterCommit(() => seen.push(2)); // in the order registered
      expect(seen).toEqual([]); // nothing before the commit
    });
    expect(seen).toEqual([1, 2]);
    expect(await auditRows(t, id)).toHaveLength(1);
  });

  it('drops after-commit work when the transaction rolls back', async () => {
    const id = randomUUID();
    const seen: string[] = [];
    await expect(
      uow.run(async (tx) => {
        await write(tx.manager, id);
        tx.afterCommit(() => seen.push('ran'));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(seen).toEqual([]);
    expect(await auditRows(t, id)).toHaveLength(0);
  });

  it('waits for the outer commit when the work was registered inside a savepoint', async () => {
    const seen: string[] = [];
    await uow.run(async (tx) => {
      await tx.manager.transaction(async (inner) => {
        uow.afterCommit(inner, () => seen.push('inner'));
      });
      expect(seen).toEqual([]); // the savepoint was released, the transaction is still open
    });
    expect(seen).toEqual(['inner']);
  });

  it('runs after-commit work at once outside a transaction (autocommit)', () => {
    const seen: string[] = [];
    uow.afterCommit(t.db.manager, () => seen.push('now'));
    expect(seen).toEqual(['now']);
  });

  it('hands an event to its handler in the same transaction; a refusal rolls everything back', async () => {
    const kept = randomUUID();
    await uow.run(async (tx) => {
      await write(tx.manager, kept);
      await tx.emit({ type: 'test.ping', entityId: kept });
    });
    expect((await auditRows(t, kept)).map((r) => r.action).sort()).toEqual(['test.pinged', 'test.written']);

    const refused = randomUUID();
    await expect(
      uow.run(async (tx) => {
        await write(tx.manager, refused);
        await tx.emit({ type: 'test.ping', entityId: refused, refuse: true });
      }),
    ).rejects.toThrow('refused by the handler');
    expect(await auditRows(t, refused)).toHaveLength(0);
  });

  it('kicks a queue once per committed transaction, never for a rolled-back one', async () => {
    kicks.length = 0;
    await uow.run(async (tx) => {
      uow.kickAfterCommit(tx.manager, 'test-queue');
      uow.kickAfterCommit(tx.manager, 'test-queue');
      expect(kicks).toEqual([]);
    });
    expect(kicks).toEqual(['test-queue']);

    await uow
      .run(async (tx) => {
        uow.kickAfterCommit(tx.manager, 'test-queue');
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    expect(kicks).toEqual(['test-queue']);
  });

  it('refuses to boot when a required event has no handler, and names it', async () => {
    expect(() => uow.onApplicationBootstrap()).not.toThrow(); // the app's own required events are handled
    uow.requireHandler('test.unhandled', 'nobody would hear it');
    expect(() => uow.onApplicationBootstrap()).toThrow(/test\.unhandled: nobody would hear it/);
    await expect(
      uow.run((tx) => tx.emit({ type: 'test.unhandled', entityId: randomUUID() })),
    ).rejects.toThrow(/No handler for domain event test\.unhandled/);
  });
});
