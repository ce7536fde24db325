import { Injectable } from '@nestjs/common';
import { AuditActor, Clock } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { GatewayPayment } from '../gateway/razorpay.gateway';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { Payment } from '../ledger/payment.entity';
import { RefundsService } from '../refunds/refunds.service';
import { toAutoPayStatus } from './subscription-plan';
import { Subscription } from './subscription.entity';
import { SubscriptionStore } from './subscription-store';
import { subscriptionMove } from './subscription-state';

/**
 * The auto-pay mandate: the token that lets our charge run debit the organizer, saved from checkout's
 * verify, the authorisation payment or `token.confirmed`; once the bank confirms it, the
 * authorisation payment is refunded in full (issue 10's decision).
 */
@Injectable()
export class Mandates {
  constructor(
    private readonly clock: Clock,
    private readonly refunds: RefundsService,
    private readonly store: SubscriptionStore,
  ) {}

  /**
   * Saves the mandate's token. A new mandate means the organizer wants to continue: a pending
   * cancellation is withdrawn, and a past-due, suspended or cancelled subscription is charged at the
   * next run (a cancelled one starts a fresh period then).
   */
  async storeToken(
    m: EntityManager,
    sub: Subscription,
    tokenId: string,
    actor: AuditActor | null,
    source: string,
    confirmed: boolean,
  ): Promise<'saved' | 'unchanged' | 'unchanged, mandate confirmed'> {
    const now = this.clock.now();
    if (sub.gatewayTokenId === tokenId) {
      if (!confirmed || sub.tokenConfirmedAt) return 'unchanged';
      sub.tokenConfirmedAt = now;
      await this.store.persistSub(m, sub);
      await this.refundAuthorizations(m, sub);
      return 'unchanged, mandate confirmed';
    }
    const before = toAutoPayStatus(sub);
    sub.gatewayTokenId = tokenId;
    sub.tokenConfirmedAt = confirmed ? now : null;
    sub.cancelAtPeriodEnd = false;
    if (sub.status === 'cancelled') {
      sub.status = subscriptionMove(sub.status, 'past_due');
      sub.failedAttempts = 0;
      sub.currentPeriodEnd = now;
      sub.nextChargeAt = now;
    } else if (sub.status === 'suspended' || sub.status === 'past_due') {
      sub.nextChargeAt = now;
    }
    await this.store.persistSub(m, sub);
    await this.store.recordChange(m, sub, before, 'subscription.payment_method_saved', actor, { source });
    if (confirmed) await this.refundAuthorizations(m, sub);
    return 'saved';
  }

  /**
   * The authorisation payments of a subscription whose mandate is confirmed go back in full, through
   * the normal refund path (one refund per payment, by key; shown with the payment in `/payments`),
   * and the organizer is told once per payment. Called with the subscription row locked. Returns how
   * many refunds were started (0 when every one already was).
   */
  private async refundAuthorizations(m: EntityManager, sub: Subscription): Promise<number> {
    const payments = await m
      .getRepository(Payment)
      .createQueryBuilder('p')
      .innerJoin(PaymentOrder, 'o', 'o.id = p.order_id')
      .where(
        `o.subscription_id = :id AND o.purpose = 'subscription_authorization' AND p.status = 'captured'`,
        { id: sub.id },
      )
      .orderBy('p.created_at', 'ASC')
      .addOrderBy('p.id', 'ASC')
      .getMany();
    let started = 0;
    for (const payment of payments) {
      // Nothing to give back: an e-mandate's authorisation is free, or another refund covers it already.
      const amount = await this.refunds.refundableLeft(m, payment);
      if (amount <= 0) continue;
      const refundId = await this.refunds.createRefund(m, {
        payment,
        bookingId: null,
        amount,
        currency: payment.currency,
        reason: 'Automatic refund of the auto-pay authorisation payment: the mandate is confirmed',
        idempotencyKey: `autopay_auth_${payment.gatewayPaymentId ?? payment.id}`,
        actor: null,
      });
      if (!refundId) continue;
      started++;
      await this.store.mail(
        m,
        sub.organizerId,
        'subscription.mandate_confirmed',
        { authorizationAmount: payment.amount },
        `sub-auth-refund:${payment.id}`,
      );
    }
    return started;
  }

  /**
   * A paid authorisation order (through the ledger, which has written the payment and the paid
   * order): the payment carries the mandate's token.
   */
  async authorizationPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    const sub = await this.store.lock(m, order.subscriptionId!);
    if (!sub) return 'ignored: unknown subscription';
    const token = payment.token_id
      ? await this.storeToken(m, sub, payment.token_id, null, 'authorization_paid', false)
      : 'pending';
    // The mandate may have been confirmed before this capture was recorded: its refund is due now.
    const refunded = sub.tokenConfirmedAt ? await this.refundAuthorizations(m, sub) : 0;
    return `subscription authorisation paid; token ${token}${refunded ? '; authorisation refund started' : ''}`;
  }
}
