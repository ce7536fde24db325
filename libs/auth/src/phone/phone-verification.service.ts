import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, AuditService, Clock, DomainError, E164 } from '@trektribe/common';
import '../auth.errors';
import { Notifier } from '@trektribe/notifications';
import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Actor } from '../actor';
import { toUserView, User, UserView } from '../users/user.entity';
import { hashToken } from '../tokens/secrets';
import { PhoneCode } from './phone-code.entity';

const CODE_TTL_MS = 10 * 60_000;
const MAX_TRIES = 5;
const MAX_SENDS_PER_HOUR = 5;

/** The code salted with its row id (auth's one sha256 helper), so equal codes never share a hash. */
const hashOf = (id: string, code: string) => hashToken(`${id}:${code}`);

/**
 * Phone verification by SMS (API.md, Notifications): a 6-digit code to the account's phone, hashed,
 * valid 10 minutes, 5 tries, at most 5 sends an hour. Texts other than the code go only to a
 * verified phone, and changing the phone unverifies it (AuthService.updateMe).
 */
@Injectable()
export class PhoneVerificationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly notifier: Notifier,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * 400 without an E.164 phone on the account; 429 after 5 sends in the last hour to this account or
   * to this number (one number cannot be pumped through many accounts); 503 SMS_NOT_CONFIGURED in
   * production without an SMS provider (outside production the code is recorded and readable at
   * /dev/mailbox).
   */
  async sendCode(actor: Actor): Promise<{ sentTo: string; expiresAt: Date }> {
    const t = this.config.twilio;
    if (this.config.nodeEnv === 'production' && !(t.accountSid && t.smsFrom)) {
      throw new DomainError(
        'SMS_NOT_CONFIGURED',
        'Phone verification is not available: no SMS provider is configured',
      );
    }
    return this.dataSource.transaction(async (m) => {
      // The user row serializes sends, so the hourly cap holds under concurrent requests.
      const user = await m.findOne(User, { where: { id: actor.id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw DomainError.notFound('User');
      if (!user.phone || !E164.test(user.phone)) {
        throw new DomainError(
          'VALIDATION_ERROR',
          'Add a phone number in international form (+919812345678) first',
          [{ field: 'phone', message: 'must be E.164, like +919812345678' }],
        );
      }
      const now = this.clock.now();
      // Per number too, under a lock on the number, so concurrent accounts cannot pass the cap together.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('phone_codes:' || $1))`, [user.phone]);
      const [{ n }] = (await m.query(
        `SELECT greatest(count(*) FILTER (WHERE user_id = $1), count(*) FILTER (WHERE phone = $3))::int AS n
           FROM phone_codes WHERE (user_id = $1 OR phone = $3) AND created_at > $2`,
        [user.id, new Date(now.getTime() - 3600_000), user.phone],
      )) as { n: number }[];
      if (n >= MAX_SENDS_PER_HOUR)
        throw new DomainError('RATE_LIMITED', 'At most 5 codes an hour: try again later');
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const id = randomUUID();
      const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
      await m.insert(PhoneCode, {
        id,
        userId: user.id,
        phone: user.phone,
        codeHash: hashOf(id, code),
        expiresAt,
        createdAt: now,
      });
      await this.notifier.notify(m, { type: 'auth.phone_code', userId: user.id, data: { code } });
      return { sentTo: `${user.phone.slice(0, 3)}******${user.phone.slice(-3)}`, expiresAt };
    });
  }

  /**
   * Checks the latest code sent to the account's current phone. Wrong → 400 (the try counts);
   * expired, used up, or none → 400; the 5th wrong try and after → 429.
   */
  async verify(actor: Actor, code: string): Promise<UserView> {
    const outcome = await this.dataSource.transaction(async (m) => {
      const user = await m.findOne(User, { where: { id: actor.id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw DomainError.notFound('User');
      const now = this.clock.now();
      const sent = await m.findOne(PhoneCode, {
        where: { userId: user.id, phone: user.phone ?? '' },
        order: { createdAt: 'DESC' },
      });
      if (!sent || sent.usedAt || sent.expiresAt <= now)
        return { error: 'expired' as const, user: undefined };
      if (sent.attempts >= MAX_TRIES) return { error: 'locked' as const, user: undefined };
      const given = Buffer.from(hashOf(sent.id, code), 'hex');
      if (!timingSafeEqual(given, Buffer.from(sent.codeHash, 'hex'))) {
        await m.increment(PhoneCode, { id: sent.id }, 'attempts', 1);
        return {
          error: sent.attempts + 1 >= MAX_TRIES ? ('locked' as const) : ('wrong' as const),
          user: undefined,
        };
      }
      await m.update(PhoneCode, { id: sent.id }, { usedAt: now });
      user.phoneVerifiedAt = now;
      await m.save(user);
      await this.audit.record(m, {
        actor,
        action: 'user.phone_verified',
        entityType: 'user',
        entityId: user.id,
        after: { phone: user.phone },
      });
      return { error: undefined, user: toUserView(user) };
    });
    // The try is counted (committed) before the refusal is thrown.
    if (outcome.user) return outcome.user;
    if (outcome.error === 'locked')
      throw new DomainError('RATE_LIMITED', 'Too many wrong codes: ask for a new one');
    if (outcome.error === 'expired')
      throw invalidCode('The code has expired or was already used: ask for a new one');
    throw invalidCode('The code is not right');
  }
}

function invalidCode(message: string): DomainError {
  return new DomainError('VALIDATION_ERROR', message, [{ field: 'code', message }]);
}
