import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig, DomainError, PageQuery, Public } from '@trektribe/common';
import { DataSource } from 'typeorm';

/**
 * Outside production only: the latest emails as they were written (sent, or skipped for want of
 * SMTP_URL), with their full text and links, so a fresh install can read verification and reset
 * codes without a mail server. In production it does not exist (404).
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
    if (this.config.nodeEnv === 'production') throw DomainError.notFound('Route');
    const rows = (await this.dataSource.query(
      `SELECT id, topic AS type, recipient AS "to", subject, body AS text, status, created_at AS "createdAt"
         FROM notification_outbox WHERE channel = 'email' ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
      [q.limit, (q.page - 1) * q.limit],
    )) as { text: string | null }[];
    return rows.map((r) => ({ ...r, links: (r.text ?? '').match(/https?:\/\/\S+/g) ?? [] }));
  }
}
