import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const TICKET_CATEGORIES = ['booking', 'payment', 'refund', 'account', 'listing', 'other'] as const;
export type TicketCategory = (typeof TICKET_CATEGORIES)[number];
export const TICKET_STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = 'normal' | 'high';

/** A customer's request for help (API.md, Support desk). */
@Entity('support_tickets')
@Check(
  'chk_tickets_category',
  `"category" IN ('booking', 'payment', 'refund', 'account', 'listing', 'other')`,
)
@Check('chk_tickets_status', `"status" IN ('open', 'pending', 'resolved', 'closed')`)
@Check('chk_tickets_priority', `"priority" IN ('normal', 'high')`)
@Index('idx_tickets_customer_created', ['customerId', 'createdAt'])
@Index('idx_tickets_status_due', ['status', 'firstResponseDueAt'])
@Index('idx_tickets_assignee_status', ['assigneeId', 'status'])
// A ticket the platform opened itself exists once per cause (e.g. `proof-stale:<bookingId>`).
@Index('uq_tickets_source_key', ['sourceKey'], { unique: true, where: '"source_key" IS NOT NULL' })
// Trigram index for the agents' text search over subjects (migration only: TypeORM cannot declare opclasses).
@Index('idx_tickets_subject_trgm', { synchronize: false })
export class Ticket {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @Column({ type: 'varchar', length: 200 })
  subject: string;

  @Column({ type: 'varchar', length: 20 })
  category: TicketCategory;

  @Column({ type: 'varchar', length: 20, default: 'open' })
  status: TicketStatus;

  @Column({ type: 'varchar', length: 10, default: 'normal' })
  priority: TicketPriority;

  @Column({ name: 'booking_id', type: 'uuid', nullable: true })
  bookingId: string | null;

  @Column({ name: 'payment_id', type: 'uuid', nullable: true })
  paymentId: string | null;

  @Column({ name: 'assignee_id', type: 'uuid', nullable: true })
  assigneeId: string | null;

  @Column({ name: 'first_response_due_at', type: 'timestamptz' })
  firstResponseDueAt: Date;

  @Column({ name: 'first_response_at', type: 'timestamptz', nullable: true })
  firstResponseAt: Date | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt: Date | null;

  /** When the hourly SLA job told the agents this ticket was overdue (once per ticket). */
  @Column({ name: 'overdue_notified_at', type: 'timestamptz', nullable: true })
  overdueNotifiedAt: Date | null;

  /** Set on tickets the platform opens itself: what caused it, unique (so at most one per cause). */
  @Column({ name: 'source_key', type: 'varchar', length: 100, nullable: true })
  sourceKey: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
