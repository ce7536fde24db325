import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One message of a ticket: the customer's, or an agent's reply or internal note (never shown to the customer). */
@Entity('support_ticket_messages')
@Index('idx_ticket_messages_ticket_created', ['ticketId', 'createdAt'])
// Trigram index for the agents' text search over messages (migration only: an opclass).
@Index('idx_ticket_messages_body_trgm', { synchronize: false })
export class TicketMessage {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'ticket_id', type: 'uuid' })
  ticketId: string;

  /** Null for a message the platform wrote (`authorRole` = `system`). */
  @Column({ name: 'author_id', type: 'uuid', nullable: true })
  authorId: string | null;

  /** The author's role when writing: `traveler`, `organizer`, `agent`, `admin` or `system`. */
  @Column({ name: 'author_role', type: 'varchar', length: 20 })
  authorRole: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'boolean', default: false })
  internal: boolean;

  /**
   * How an agent's reply reached the customer: `email` (with in-app), or `sms` / `whatsapp` (as
   * well as both); null for customers' messages and internal notes.
   */
  @Column({ type: 'varchar', length: 20, nullable: true })
  channel: string | null;

  /**
   * That channel's outcome as last known: `pending`, `sent`, `failed`, `skipped` (no provider
   * configured) or `unverified` (the customer has no verified phone); null when nothing was sent.
   */
  @Column({ type: 'varchar', length: 20, nullable: true })
  delivery: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
