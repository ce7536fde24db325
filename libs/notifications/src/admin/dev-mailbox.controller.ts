import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig, DomainError, offsetOf, PageQuery, Public } from '@trektribe/common';
import { DataSource } from 'typeorm';

/**
 * A developer's mailbox: outside production and only while no SMTP_URL is set (nothing can really be
 * delivered), the latest messages that were skipped for want of a provider (email, SMS, WhatsApp),
 * with their full text and links, so a fresh install can read verification and reset codes. A
 * deployment that forgot NODE_ENV but has a mail server does not expose real mail here (404).
 */
@ApiExcludeController()
@Public()
@Controller({ path: 'dev/mailbox', version: '1' })
export class DevMailboxController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@Query() q: PageQuery) {
    if (this.config.nodeEnv === 'production' || this.config.mail.smtpUrl) throw DomainError.notFound('Route');
    const rows = (await this.dataSource.query(
      `SELECT id, channel, topic AS type, recipient AS "to", subject, body AS text, status, created_at AS "createdAt"
         FROM notification_outbox WHERE channel IN ('email', 'sms', 'whatsapp') AND status = 'skipped'
        ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
      [q.limit, offsetOf(q)],
    )) as { text: string | null }[];
    return rows.map((r) => ({ ...r, links: (r.text ?? '').match(/https?:\/\/\S+/g) ?? [] }));
  }
}
