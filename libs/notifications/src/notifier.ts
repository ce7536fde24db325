import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { contentOf, isSecurityType, NotificationData, NotificationType } from './catalog/catalog';
import { renderMessage, RenderedMessage } from './catalog/message';
import { OutboxService } from './outbox/outbox.service';
import { PreferencesService } from './preferences/preferences.service';
import { nextAllowedAt } from './preferences/quiet-hours';
import { TextChannel, TwilioClient } from './texts/twilio-client';

/** One notification to one user, as the code that causes it records it (API.md, Notifications). */
export interface NotificationRequest<T extends NotificationType> {
  type: T;
  userId: string;
  data: NotificationData<T>;
  /** The same key never notifies twice, on any channel (e.g. `booking-confirmed:<bookingId>`). */
  dedupeKey?: string;
  /**
   * A direct answer to the user's own request (a support reply): in-app and email whatever the
   * preferences, as the user is waiting for it.
   */
  direct?: boolean;
  /**
   * Text channels the sender asked for (an agent replying by SMS or WhatsApp): used whatever the
   * preferences, but only to a verified phone and outside the user's quiet hours.
   */
  texts?: TextChannel[];
}

/**
 * What happened to each text channel of a notification: `pending` (queued; it may wait for the end
 * of quiet hours), `skipped` (no provider configured), `unverified` (the user has no verified phone).
 */
export type TextReceipt = 'pending' | 'skipped' | 'unverified';

export interface NotificationReceipt {
  /** False for a dedupe key already used, or a user that does not exist. */
  recorded: boolean;
  texts: Partial<Record<TextChannel, TextReceipt>>;
}

/**
 * Records a notification in the caller's transaction: the in-app item, its `notification` socket
 * event and the email, as the user's preferences allow, each delivered after commit by its lane. Wording comes from the
 * catalog; callers pass only the type and the data. Security mail (`auth.*`) goes by email only:
 * its codes must not sit in an inbox or travel over a socket.
 */
@Injectable()
export class Notifier {
  constructor(
    private readonly outbox: OutboxService,
    private readonly preferences: PreferencesService,
    private readonly texts: TwilioClient,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * True when recorded now; false for a dedupe key already used, or a user that does not exist.
   * The user's preferences decide the channels (security mail always goes by email).
   */
  async notify<T extends NotificationType>(m: EntityManager, req: NotificationRequest<T>): Promise<boolean> {
    return (await this.send(m, req)).recorded;
  }

  /**
   * `notify`, telling what became of each text channel (for a sender that records its delivery,
   * like a support reply). An email's or text's later outcome arrives as the `notification.settled` event
   * (keyed by `dedupeKey`).
   */
  async send<T extends NotificationType>(
    m: EntityManager,
    req: NotificationRequest<T>,
  ): Promise<NotificationReceipt> {
    const receipt: NotificationReceipt = { recorded: false, texts: {} };
    const [user] = (await m.query(
      `SELECT id, name, email, phone, phone_verified_at IS NOT NULL AS phone_verified FROM users WHERE id = $1`,
      [req.userId],
    )) as { id: string; name: string; email: string; phone: string | null; phone_verified: boolean }[];
    if (!user) return receipt;
    if (req.dedupeKey && (await this.alreadyNotified(m, req.dedupeKey))) return receipt;
    const prefs = await this.preferences.get(user.id, m);
    const message = renderMessage(req.type, contentOf(req.type, req.data), {
      name: user.name,
      appUrl: this.config.publicAppUrl,
    });
    // The phone code goes to the (not yet verified) phone by SMS and nowhere else, at any hour.
    if (req.type === 'auth.phone_code') {
      if (user.phone) await this.text(m, 'sms', user.phone, message, req, this.clock.now());
      return { recorded: true, texts: {} };
    }
    const security = isSecurityType(req.type);
    if (!security && (req.direct || this.preferences.allows(prefs, req.type, 'inApp'))) {
      if (!(await this.inApp(m, user.id, message, req))) return receipt;
    }
    receipt.recorded = true;
    if (req.direct || this.preferences.allows(prefs, req.type, 'email')) {
      await this.outbox.enqueueEmail(m, {
        to: user.email,
        topic: req.type,
        subject: message.subject,
        body: message.text,
        html: message.html,
        userId: user.id,
        dedupeKey: req.dedupeKey,
      });
    }
    // Texts only to a verified phone, and never in the user's quiet hours (they wait until the end).
    const asked = new Set(req.texts ?? []);
    if (user.phone && user.phone_verified) {
      const notBefore = nextAllowedAt(this.clock.now(), prefs.quietHours, prefs.timezone);
      for (const channel of ['sms', 'whatsapp'] as const) {
        if (asked.has(channel) || this.preferences.allows(prefs, req.type, channel)) {
          await this.text(m, channel, user.phone, message, req, notBefore);
          receipt.texts[channel] = this.texts.configured(channel) ? 'pending' : 'skipped';
        }
      }
    } else {
      for (const channel of asked) receipt.texts[channel] = 'unverified';
    }
    return receipt;
  }

  private async text<T extends NotificationType>(
    m: EntityManager,
    channel: TextChannel,
    phone: string,
    message: RenderedMessage,
    req: NotificationRequest<T>,
    notBefore: Date,
  ): Promise<void> {
    await this.outbox.enqueueText(m, {
      channel,
      to: channel === 'whatsapp' ? `whatsapp:${phone}` : phone,
      topic: req.type,
      body: message.sms,
      userId: req.userId,
      dedupeKey: req.dedupeKey ? `${req.dedupeKey}:${channel}` : undefined,
      notBefore,
      skipped: !this.texts.configured(channel),
    });
  }

  /** The key was used by an earlier notification, on any channel (each channel's unique index backs it). */
  private async alreadyNotified(m: EntityManager, key: string): Promise<boolean> {
    const rows = (await m.query(
      `SELECT 1 FROM notifications WHERE dedupe_key = $1
       UNION ALL SELECT 1 FROM notification_outbox WHERE dedupe_key IN ($1, $1 || ':sms', $1 || ':whatsapp') LIMIT 1`,
      [key],
    )) as unknown[];
    return rows.length > 0;
  }

  /** The inbox row and its socket event; false when the dedupe key was already used. */
  private async inApp<T extends NotificationType>(
    m: EntityManager,
    userId: string,
    message: RenderedMessage,
    req: NotificationRequest<T>,
  ): Promise<boolean> {
    const [row] = returnedRows<{ id: string; created_at: Date }>(
      await m.query(
        `INSERT INTO notifications (user_id, type, title, body, data, dedupe_key) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
         RETURNING id, created_at`,
        [
          userId,
          req.type,
          message.inApp.title,
          message.inApp.body,
          JSON.stringify(req.data ?? {}),
          req.dedupeKey ?? null,
        ],
      ),
    );
    if (!row) return false;
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${userId}`],
      event: 'notification',
      payload: {
        id: row.id,
        type: req.type,
        title: message.inApp.title,
        body: message.inApp.body,
        createdAt: new Date(row.created_at).toISOString(),
      },
    });
    return true;
  }
}
