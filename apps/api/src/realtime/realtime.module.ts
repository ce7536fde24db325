import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AuthModule } from '@trektribe/auth';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule, RealtimePublisher } from '@trektribe/notifications';
import { RealtimeGateway } from './realtime.gateway';

/** The socket.io server; it registers itself with the outbox dispatcher as the realtime channel. */
@Module({
  imports: [AuthModule, CommonModule, NotificationsModule, JwtModule.register({})],
  providers: [RealtimeGateway, { provide: RealtimePublisher, useExisting: RealtimeGateway }],
})
export class RealtimeModule {}
