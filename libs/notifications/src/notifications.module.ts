import { Global, Module } from '@nestjs/common';
import { MailTransport } from './mail/mail-transport';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxService } from './outbox/outbox.service';

@Global()
@Module({
  providers: [MailTransport, OutboxService, OutboxDispatcher],
  exports: [OutboxService, OutboxDispatcher],
})
export class NotificationsModule {}
