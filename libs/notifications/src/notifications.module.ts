import { Module } from '@nestjs/common';
import { CommonModule } from '@trektribe/common';
import { MailTransport } from './mail/mail-transport';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxService } from './outbox/outbox.service';
import { Notifier } from './notifier';

/** The outbox (messages written in the caller's transaction) and its dispatcher. */
@Module({
  imports: [CommonModule],
  providers: [MailTransport, OutboxService, OutboxDispatcher, Notifier],
  exports: [OutboxService, OutboxDispatcher, Notifier],
})
export class NotificationsModule {}
