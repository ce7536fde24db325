import { AuditService } from '@trektribe/common';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows } from '../support/fixtures';
import { newUser } from '../support/services';

/**
 * AuditService.recordMany (libs/common): the only way audit rows are written. Rows commit or roll
 * back with the caller's transaction, carry no credentials, and are stamped with the request
 * context when there is one.
 */
describe('AuditService.recordMany (common)', () => {
  let t: ServiceApp;
  let audit: AuditService;
  beforeAll(async () => {
    t = await bootTestApp();
    audit = t.app.get(AuditService);
  });
  afterAll(async () => t?.close());

  const count = async () =>
    ((await t.db.query(`SELECT count(*)::int AS n FROM audit_logs`)) as { n: number }[])[0].n;

  it('writes one row per entry, with credentials dropped at any depth and everything else kept', async () => {
    const admin = await newUser(t, 'admin');
    const [a, b] = [randomUUID(), randomUUID()];

    await t.db.transaction((m) =>
      audit.recordMany(m, [
        {
          actor: { id: admin.id, role: 'admin' },
          action: 'test.changed',
          entityType: 'thing',
          entityId: a,
          before: { name: 'old', password: 'Trek2026!ok' },
          after: {
            name: 'new',
            passwordHash: '$argon2id$x',
            nested: { refreshToken: 'rt', apiSecret: 's', kept: 1 },
            list: [{ token: 't', n: 2 }],
          },
        },
        {
          actor: null,
          action: 'test.created',
          entityType: 'thing',
          entityId: b,
          after: { webhookSecret: 'w', amount: 500 },
        },
      ]),
    );

    const [first] = await auditRows(t, a);
    expect(first).toEqual({
      action: 'test.changed',
      actor_id: admin.id,
      actor_role: 'admin',
      entity_type: 'thing',
      entity_id: a,
      before: { name: 'old' },
      after: { name: 'new', nested: { kept: 1 }, list: [{ n: 2 }] },
    });
    const [second] = await auditRows(t, b);
    expect(second).toMatchObject({
      action: 'test.created',
      actor_id: null,
      actor_role: null,
      before: null,
      after: { amount: 500 },
    });
  });

  it('rows written in a transaction that rolls back are gone with it; an empty batch writes nothing', async () => {
    const id = randomUUID();
    const before = await count();

    await expect(
      t.db.transaction(async (m) => {
        await audit.recordMany(
          m,
          [1, 2, 3].map((n) => ({ actor: null, action: `test.step${n}`, entityType: 'thing', entityId: id })),
        );
        throw new Error('the change being recorded failed');
      }),
    ).rejects.toThrow('failed');

    expect(await auditRows(t, id)).toEqual([]);
    expect(await count()).toBe(before);

    await t.db.transaction((m) => audit.recordMany(m, []));
    expect(await count()).toBe(before);
  });

  it('every row of a batch carries the request context it was written in (user agent cut to 300 characters)', async () => {
    const cls = t.app.get(ClsService);
    const [a, b] = [randomUUID(), randomUUID()];
    const agent = `Mozilla/5.0 ${'x'.repeat(400)}`;

    await cls.run(async () => {
      cls.set('requestId', 'req-medium-1');
      cls.set('ip', '203.0.113.7');
      cls.set('userAgent', agent);
      await t.db.transaction((m) =>
        audit.recordMany(m, [
          { actor: null, action: 'test.batch', entityType: 'thing', entityId: a },
          { actor: null, action: 'test.batch', entityType: 'thing', entityId: b },
        ]),
      );
    });
    await t.db.transaction((m) =>
      audit.record(m, { actor: null, action: 'test.outside', entityType: 'thing', entityId: a }),
    );

    const rows = (await t.db.query(
      `SELECT entity_id, action, ip, user_agent, request_id FROM audit_logs WHERE entity_id IN ($1, $2) ORDER BY action, entity_id`,
      [a, b],
    )) as {
      entity_id: string;
      action: string;
      ip: string | null;
      user_agent: string | null;
      request_id: string | null;
    }[];
    expect(rows).toHaveLength(3);
    for (const r of rows.filter((r) => r.action === 'test.batch')) {
      expect(r).toMatchObject({
        ip: '203.0.113.7',
        request_id: 'req-medium-1',
        user_agent: agent.slice(0, 300),
      });
    }
    expect(rows.find((r) => r.action === 'test.outside')).toMatchObject({
      ip: null,
      user_agent: null,
      request_id: null,
    });
  });
});
