import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/**
 * Domain events by type. Each lib declares the events it emits by declaration merging, next to its
 * module (e.g. `libs/booking/src/booking.events.ts`):
 *
 *   declare module '@trektribe/common' { interface DomainEvents { 'booking.cancelled': BookingCancelled } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DomainEvents {}
export type DomainEventType = keyof DomainEvents;
export type DomainEvent<K extends DomainEventType = DomainEventType> = {
  [P in K]: { type: P } & DomainEvents[P];
}[K];

/** A change in progress: its transaction, its events and what must happen once it commits. */
export interface Tx {
  readonly manager: EntityManager;
  /** Hands the event to every in-transaction handler, in registration order; a handler's error rolls back. */
  emit<K extends DomainEventType>(event: DomainEvent<K>): Promise<void>;
  /** Runs `fn` once the transaction commits (never on rollback); at once outside a transaction. */
  afterCommit(fn: () => void): void;
}

/** A worker (a QueueRunner) as the unit of work sees it. */
export interface Kickable {
  readonly name: string;
  kick(): void;
}

export type DomainEventHandler<K extends DomainEventType> = (tx: Tx, event: DomainEvent<K>) => Promise<void>;

/**
 * The unit of work: `run(tx => …)` opens a transaction; inside it, `tx.emit` hands typed domain
 * events to the handlers other libs registered (`on`), and `tx.afterCommit` defers what must only
 * happen once the change is durable: kicking a worker (`kickAfterCommit`), dropping cached answers.
 *
 * After-commit work is tied to the transaction's query runner, so it also works for a manager that
 * a caller opened with `dataSource.transaction` and passes down (`UnitOfWork.of(manager)`).
 */
@Injectable()
export class UnitOfWork implements OnModuleInit, OnModuleDestroy, OnApplicationBootstrap {
  private readonly logger = new Logger(UnitOfWork.name);
  private readonly handlers = new Map<DomainEventType, DomainEventHandler<never>[]>();
  /** Event types whose emitter cannot do without a handler (money would be lost), with why. */
  private readonly required = new Map<DomainEventType, string>();
  private readonly queues = new Map<string, Kickable>();
  private readonly kickers = new Map<string, () => void>();
  private readonly pending = new WeakMap<QueryRunner, (() => void)[]>();
  private readonly commitHook: EntitySubscriberInterface = {
    afterTransactionCommit: ({ queryRunner }) => {
      if (queryRunner.isTransactionActive) return; // a savepoint released: the outer commit decides
      const fns = this.pending.get(queryRunner);
      this.pending.delete(queryRunner);
      for (const fn of fns ?? []) this.runSafely(fn);
    },
    afterTransactionRollback: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive) this.pending.delete(queryRunner);
    },
  };

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    (this.dataSource.subscribers as EntitySubscriberInterface[]).push(this.commitHook);
  }

  onModuleDestroy(): void {
    const subs = this.dataSource.subscribers as EntitySubscriberInterface[];
    const i = subs.indexOf(this.commitHook);
    if (i >= 0) subs.splice(i, 1);
  }

  /** A missing handler for a required event fails the boot, not a traveler's refund. */
  onApplicationBootstrap(): void {
    for (const [type, why] of this.required) {
      if (!this.handlers.get(type)?.length) throw new Error(`No handler for domain event ${type}: ${why}`);
    }
  }

  /** Runs `work` in one transaction; resolves after the commit (after-commit work has been started). */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((m) => work(this.of(m)));
  }

  /** The unit of work of a transaction some caller opened (or of an autocommit manager). */
  of(manager: EntityManager): Tx {
    return {
      manager,
      emit: (event) => this.emit(manager, event),
      afterCommit: (fn) => this.afterCommit(manager, fn),
    };
  }

  /** Registers an in-transaction handler (at module init). */
  on<K extends DomainEventType>(type: K, handler: DomainEventHandler<K>): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as DomainEventHandler<never>);
    this.handlers.set(type, list);
  }

  /** Declares that `type` must have a handler once the app has booted (checked at bootstrap). */
  requireHandler(type: DomainEventType, why: string): void {
    this.required.set(type, why);
  }

  async emit<K extends DomainEventType>(manager: EntityManager, event: DomainEvent<K>): Promise<void> {
    const list = (this.handlers.get(event.type) ?? []) as DomainEventHandler<K>[];
    if (!list.length && this.required.has(event.type))
      throw new Error(`No handler for domain event ${event.type}`);
    const tx = this.of(manager);
    for (const handle of list) await handle(tx, event);
  }

  afterCommit(manager: EntityManager, fn: () => void): void {
    const qr = manager.queryRunner;
    if (!qr?.isTransactionActive) return this.runSafely(fn);
    const fns = this.pending.get(qr);
    if (fns) fns.push(fn);
    else this.pending.set(qr, [fn]);
  }

  /** A queue's worker runs a pass soon after `manager`'s transaction commits (collapsed per queue). */
  kickAfterCommit(manager: EntityManager, queue: string): void {
    const qr = manager.queryRunner;
    const fns = qr?.isTransactionActive ? this.pending.get(qr) : undefined;
    const kick = this.kicker(queue);
    if (fns?.includes(kick)) return; // one kick per queue per transaction
    this.afterCommit(manager, kick);
  }

  /** Registers a worker so that `kickAfterCommit(…, runner.name)` reaches it. */
  registerQueue(runner: Kickable): void {
    this.queues.set(runner.name, runner);
    this.kickers.delete(runner.name);
  }

  private kicker(queue: string): () => void {
    let k = this.kickers.get(queue);
    if (!k) {
      k = () => this.queues.get(queue)?.kick();
      this.kickers.set(queue, k);
    }
    return k;
  }

  private runSafely(fn: () => void): void {
    try {
      fn();
    } catch (err: unknown) {
      this.logger.error({ err }, 'after-commit work failed');
    }
  }
}
