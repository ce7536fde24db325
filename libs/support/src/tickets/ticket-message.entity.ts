import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One message of a ticket: the customer's, or an agent's reply or internal note (never shown to the customer). */
@Entity('support_ticket_messages')
@Index('idx_ticket_messages_ticket_created', ['ticketId', 'createdAt'])
export class TicketMessage {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'ticket_id', type: 'uuid' })
  ticketId: string;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @Column({ name: 'author_role', type: 'varchar', length: 20 })
  authorRole: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'boolean', default: false })
  internal: boolean;

  /** How an agent's reply reached the customer beyond in-app and email (`sms`, `whatsapp`); null otherwise. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  channel: string | null;

  /** That channel's outcome as last known (`pending`, `sent`, `failed`, `skipped`). */
  @Column({ type: 'varchar', length: 20, nullable: true })
  delivery: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
