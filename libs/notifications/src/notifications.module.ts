import { Module } from '@nestjs/common';
import { CommonModule } from '@trektribe/common';
import { MailTransport } from './mail/mail-transport';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxService } from './outbox/outbox.service';
import { Notifier } from './notifier';
import { InboxController } from './inbox/inbox.controller';
import { AdminNotificationsController } from './admin/admin-notifications.controller';
import { AdminNotificationsService } from './admin/admin-notifications.service';
import { DevMailboxController } from './admin/dev-mailbox.controller';
import './notifications.errors';
import { TwilioClient } from './texts/twilio-client';
import { PreferencesController } from './preferences/preferences.controller';
import { PreferencesService } from './preferences/preferences.service';
import { InboxService } from './inbox/inbox.service';

/** The outbox (messages written in the caller's transaction) and its dispatcher. */
@Module({
  imports: [CommonModule],
  // Preferences first: its fixed path must not be read as an inbox id.
  controllers: [PreferencesController, InboxController, AdminNotificationsController, DevMailboxController],
  providers: [
    MailTransport,
    OutboxService,
    OutboxDispatcher,
    Notifier,
    InboxService,
    AdminNotificationsService,
    PreferencesService,
    TwilioClient,
  ],
  exports: [OutboxService, OutboxDispatcher, Notifier],
})
export class NotificationsModule {}
