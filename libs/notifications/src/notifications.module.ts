import { Module } from '@nestjs/common';
import { CommonModule } from '@trektribe/common';
import { MailTransport } from './mail/mail-transport';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxService } from './outbox/outbox.service';

/** The outbox (messages written in the caller's transaction) and its dispatcher. */
@Module({
  imports: [CommonModule],
  providers: [MailTransport, OutboxService, OutboxDispatcher],
  exports: [OutboxService, OutboxDispatcher],
})
export class NotificationsModule {}
