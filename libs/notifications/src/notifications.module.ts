import { Module } from '@nestjs/common';
import { CommonModule } from '@trektribe/common';
import { MailTransport } from './mail/mail-transport';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxService } from './outbox/outbox.service';
import { Notifier } from './notifier';
import { InboxController } from './inbox/inbox.controller';
import { InboxService } from './inbox/inbox.service';

/** The outbox (messages written in the caller's transaction) and its dispatcher. */
@Module({
  imports: [CommonModule],
  controllers: [InboxController],
  providers: [MailTransport, OutboxService, OutboxDispatcher, Notifier, InboxService],
  exports: [OutboxService, OutboxDispatcher, Notifier],
})
export class NotificationsModule {}
