import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import {
  CsvExport,
  CsvFile,
  csvQueryFrom,
  DomainError,
  istDayEnd,
  istDayStart,
  offsetOf,
  Page,
} from '@trektribe/common';
import { DataSource } from 'typeorm';
import { Refund } from '../refunds/refund.entity';
import { Payment } from './payment.entity';
import { PaymentView, RefundView, toPaymentView, toRefundView } from './payment-views';
import { AdminPaymentsQuery, MyPaymentsQuery } from './payment.dto';

type PaymentsFilter = AdminPaymentsQuery & { id?: string };

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The CSV columns of the admin's payments list: the JSON view, the payer flattened. */
const PAYMENT_CSV = {
  id: 'p.id',
  createdAt: 'p.created_at',
  status: 'p.status',
  method: 'p.method',
  amount: 'p.amount',
  amountRefunded: 'p.amount_refunded',
  currency: 'p.currency',
  bookingId: 'p.booking_id',
  subscriptionId: 'p.subscription_id',
  payerId: 'p.payer_id',
  payerName: 'u.name',
  payerEmail: 'u.email',
  gatewayPaymentId: 'p.gateway_payment_id',
  gatewayOrderId: 'o.gateway_order_id',
  gatewayMethod: 'p.gateway_method',
  errorCode: 'p.error_code',
  errorDescription: 'p.error_description',
  capturedAt: 'p.captured_at',
};

export interface AdminPaymentView extends PaymentView {
  payer: { id: string; name: string | null; email: string | null };
}

/** The "bills" of the platform: the payer's own, every payment and refund for admins. (An organizer's earnings are the read side's: libs/reporting.) */
@Injectable()
export class PaymentsQueryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly csv: CsvExport,
  ) {}

  async mine(actor: Actor, q: MyPaymentsQuery): Promise<Page<PaymentView>> {
    return this.payments({ ...q, payerId: actor.id } as PaymentsFilter, false) as Promise<Page<PaymentView>>;
  }

  async forAdmin(q: AdminPaymentsQuery): Promise<Page<AdminPaymentView>> {
    return this.payments(q, true) as Promise<Page<AdminPaymentView>>;
  }

  /** One of the actor's own payments with its refunds; anyone else's is "not found", so ids leak nothing. */
  async mineOne(actor: Actor, id: string): Promise<PaymentView & { refunds: RefundView[] }> {
    return this.one(id, actor.id, false);
  }

  async forAdminOne(id: string): Promise<AdminPaymentView & { refunds: RefundView[] }> {
    return this.one(id, undefined, true) as Promise<AdminPaymentView & { refunds: RefundView[] }>;
  }

  private async one(id: string, payerId: string | undefined, admin: boolean) {
    const [payment] = (await this.payments({ id, payerId, page: 1, limit: 1 } as PaymentsFilter, admin))
      .items;
    if (!payment) throw DomainError.notFound('Payment');
    const refunds = await this.dataSource
      .getRepository(Refund)
      .find({ where: { paymentId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
    return { ...payment, refunds: refunds.map(toRefundView) };
  }

  /** Every payment `forAdmin` would page through, as a CSV download. */
  forAdminCsv(q: AdminPaymentsQuery): CsvFile {
    return this.csv.file(
      csvQueryFrom(this.filtered(q), PAYMENT_CSV, [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ]),
      'payments',
    );
  }

  private async payments(q: PaymentsFilter, admin: boolean): Promise<Page<PaymentView | AdminPaymentView>> {
    const qb = this.filtered(q).addSelect([
      'o.gateway_order_id AS gateway_order_id',
      'u.name AS payer_name',
      'u.email AS payer_email',
    ]);
    const total = await qb.clone().getCount();
    qb.orderBy('p.created_at', 'DESC').addOrderBy('p.id', 'DESC').offset(offsetOf(q)).limit(q.limit);
    const { entities, raw } = await qb.getRawAndEntities<{
      p_id: string;
      gateway_order_id: string | null;
      payer_name: string | null;
      payer_email: string | null;
    }>();
    const extra = new Map(raw.map((r) => [r.p_id, r]));
    const items = entities.map((p) => {
      const x = extra.get(p.id);
      const view = toPaymentView(p, x?.gateway_order_id ?? null);
      return admin
        ? { ...view, payer: { id: p.payerId, name: x?.payer_name ?? null, email: x?.payer_email ?? null } }
        : view;
    });
    return Page.of(items, total, q);
  }

  /** The payments the filters select, with the order and payer joined: the JSON page and the CSV read these. */
  private filtered(q: PaymentsFilter) {
    const qb = this.dataSource
      .getRepository(Payment)
      .createQueryBuilder('p')
      .leftJoin('payment_orders', 'o', 'o.id = p.order_id')
      .leftJoin('users', 'u', 'u.id = p.payer_id');
    if (q.id) qb.andWhere('p.id = :id', { id: q.id });
    if (q.payerId) qb.andWhere('p.payer_id = :payerId', { payerId: q.payerId });
    if (q.status) qb.andWhere('p.status = :status', { status: q.status });
    if (q.method) qb.andWhere('p.method = :method', { method: q.method });
    if (q.bookingId) qb.andWhere('p.booking_id = :bookingId', { bookingId: q.bookingId });
    if (q.from)
      qb.andWhere('p.created_at >= :from', {
        from: DATE_ONLY.test(q.from) ? istDayStart(q.from) : new Date(q.from),
      });
    if (q.to)
      qb.andWhere(DATE_ONLY.test(q.to) ? 'p.created_at < :to' : 'p.created_at <= :to', {
        to: DATE_ONLY.test(q.to) ? istDayEnd(q.to) : new Date(q.to),
      });
    return qb;
  }
}
