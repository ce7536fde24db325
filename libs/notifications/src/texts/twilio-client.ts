import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@trektribe/common';

/** A refusal that will not change on a retry (a bad number, a blocked recipient): the row fails at once. */
export class PermanentDeliveryError extends Error {}

export type TextChannel = 'sms' | 'whatsapp';

/**
 * SMS and WhatsApp through Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json,
 * form-encoded To/From/Body, HTTP basic auth with the account SID and auth token). Plain fetch: the
 * whole API we use is one request, and the official SDK would add a large dependency tree for it.
 */
@Injectable()
export class TwilioClient {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Whether the channel has an account and a sender; an unconfigured channel's messages are `skipped`. */
  configured(channel: TextChannel): boolean {
    const t = this.config.twilio;
    return Boolean(t.accountSid && t.authToken && (channel === 'sms' ? t.smsFrom : t.whatsappFrom));
  }

  /**
   * `to` is E.164 (`+919812345678`) for SMS, `whatsapp:+91…` for WhatsApp. 400 (Twilio's answer for
   * a bad number or body, e.g. 21211, 21610): PermanentDeliveryError, as no retry can change it.
   * 401/403/404 mean our credentials or account are wrong: retried (and logged), so fixing the
   * configuration delivers them. 429, 5xx, a timeout or a network error: retried with backoff.
   */
  async send(channel: TextChannel, to: string, body: string): Promise<'sent' | 'skipped'> {
    if (!this.configured(channel)) return 'skipped';
    const t = this.config.twilio;
    const from = channel === 'sms' ? t.smsFrom! : t.whatsappFrom!;
    const res = await fetch(`${t.apiUrl}/2010-04-01/Accounts/${t.accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: to, From: from, Body: body }).toString(),
      signal: AbortSignal.timeout(t.timeoutMs),
    });
    if (res.ok) return 'sent';
    const detail = (await res.text().catch(() => '')).slice(0, 300);
    if (res.status === 400) {
      throw new PermanentDeliveryError(`Twilio refused the message (${res.status}): ${detail}`);
    }
    throw new Error(`Twilio answered ${res.status}: ${detail}`);
  }
}
