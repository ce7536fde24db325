import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { BookingModule } from '@trektribe/booking';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { GatewayModule } from '../gateway/gateway.module';
import { RefundSender } from './refund-sender';
import { RefundSettlement } from './refund-settlement';
import { AdminRefundsController } from './refunds.controller';
import { RefundsService } from './refunds.service';

/**
 * Refunds: RefundsService records them (and handles booking's `booking.cancelled`), RefundSender
 * sends them after commit, RefundSettlement settles the gateway's answers and emits
 * `refund.processed`, which the ledger credits to the payment. Depends on no other billing module.
 */
@Module({
  imports: [AuthModule, BookingModule, CommonModule, NotificationsModule, GatewayModule],
  controllers: [AdminRefundsController],
  providers: [RefundsService, RefundSender, RefundSettlement],
  exports: [RefundsService, RefundSettlement],
})
export class RefundsModule {}
