import { AuthModule } from '@trektribe/auth';
import { Module } from '@nestjs/common';
import { BookingModule } from '@trektribe/booking';
import { IdempotencyInterceptor } from '@trektribe/common';
import { PaymentProofsController, PendingVerificationsController } from './proofs.controller';
import { ProofStorage } from './proof-storage';
import { ProofsService } from './proofs.service';

/** Screenshot payments: upload, verification by the organizer, escalation to agents (ProofsService.escalateStaleProofs). */
@Module({
  imports: [AuthModule, BookingModule],
  controllers: [PaymentProofsController, PendingVerificationsController],
  providers: [ProofsService, ProofStorage, IdempotencyInterceptor],
  exports: [ProofsService],
})
export class ProofsModule {}
