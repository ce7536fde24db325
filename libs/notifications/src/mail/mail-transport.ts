import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@trektribe/common';
import { createTransport, Transporter } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** SMTP when SMTP_URL is set; otherwise the mail is recorded `skipped` and logged (development). */
@Injectable()
export class MailTransport implements OnApplicationShutdown {
  private readonly logger = new Logger(MailTransport.name);
  private readonly transporter: Transporter | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Pooled: a few SMTP connections reused across messages instead of a handshake per message.
    if (config.mail.smtpUrl)
      this.transporter = createTransport({
        url: config.mail.smtpUrl,
        pool: true,
        maxConnections: 3,
      } as Parameters<typeof createTransport>[0]);
  }

  /** `skipped` without SMTP_URL: the message stays readable in the outbox (outside production: /dev/mailbox). */
  async send(mail: Mail): Promise<'sent' | 'skipped'> {
    if (!this.transporter) {
      this.logger.log(
        { to: mail.to, subject: mail.subject },
        this.config.nodeEnv === 'production'
          ? 'mail not sent (no SMTP_URL): recorded in the outbox'
          : 'mail not sent (no SMTP_URL): read it at /dev/mailbox',
      );
      return 'skipped';
    }
    await this.transporter.sendMail({
      from: this.config.mail.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html ? { html: mail.html } : {}),
    });
    return 'sent';
  }

  // After beforeApplicationShutdown, where the dispatcher finishes its passes: closing the pool earlier
  // failed the emails in flight ("Connection pool was closed"), to be retried after a backoff.
  onApplicationShutdown(): void {
    this.transporter?.close();
  }
}
