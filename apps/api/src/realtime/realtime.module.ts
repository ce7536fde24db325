import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AuthModule } from '@trektribe/auth';
import { RealtimePublisher } from '@trektribe/notifications';
import { RealtimeGateway } from './realtime.gateway';

/** Global so the outbox dispatcher (in NotificationsModule) finds the RealtimePublisher port. */
@Global()
@Module({
  imports: [AuthModule, JwtModule.register({})],
  providers: [RealtimeGateway, { provide: RealtimePublisher, useExisting: RealtimeGateway }],
  exports: [RealtimePublisher],
})
export class RealtimeModule {}
