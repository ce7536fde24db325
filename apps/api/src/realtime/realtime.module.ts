import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule, RealtimePublisher } from '@trektribe/notifications';
import { RealtimeGateway } from './realtime.gateway';

/** The socket.io server; it registers itself with the outbox dispatcher as the realtime channel. */
@Module({
  imports: [AuthModule, CommonModule, NotificationsModule],
  providers: [RealtimeGateway, { provide: RealtimePublisher, useExisting: RealtimeGateway }],
})
export class RealtimeModule {}
