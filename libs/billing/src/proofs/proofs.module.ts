import { AuthModule } from '@trektribe/auth';
import { Module } from '@nestjs/common';
import { BookingModule } from '@trektribe/booking';
import { CommonModule, IdempotencyInterceptor } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { LedgerModule } from '../ledger/ledger.module';
import { RefundsModule } from '../refunds/refunds.module';
import { PaymentProofsController, PendingVerificationsController } from './proofs.controller';
import { ProofStorage } from './proof-storage';
import { ProofEscalation } from './proof-escalation';
import { ProofReview } from './proof-review';
import { ProofsService } from './proofs.service';

/** Screenshot payments: upload, verification by the organizer, escalation to agents (ProofEscalation.escalateStaleProofs). */
@Module({
  imports: [AuthModule, BookingModule, CommonModule, NotificationsModule, LedgerModule, RefundsModule],
  controllers: [PaymentProofsController, PendingVerificationsController],
  providers: [ProofsService, ProofReview, ProofEscalation, ProofStorage, IdempotencyInterceptor],
  exports: [ProofsService, ProofEscalation],
})
export class ProofsModule {}
