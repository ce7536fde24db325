import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { BookingModule } from '@trektribe/booking';
import { CommonModule } from '@trektribe/common';
import { GatewayModule } from '../gateway/gateway.module';
import { LedgerModule } from '../ledger/ledger.module';
import { CheckoutController } from './checkout.controller';
import { CheckoutService } from './checkout.service';

/** Online checkout of a booking: the Razorpay order to pay, and the verify handshake into the ledger. */
@Module({
  imports: [AuthModule, BookingModule, CommonModule, GatewayModule, LedgerModule],
  controllers: [CheckoutController],
  providers: [CheckoutService],
})
export class CheckoutModule {}
