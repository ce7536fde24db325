import { describe, expect, it } from 'vitest';
import { TICKET_STATUSES } from './ticket.entity';
import { canMoveTicket, TICKET_MOVES } from './ticket-state';

describe('ticket status moves', () => {
  it('has a row for every status, and closed is final', () => {
    expect(Object.keys(TICKET_MOVES).sort()).toEqual([...TICKET_STATUSES].sort());
    for (const to of TICKET_STATUSES) expect(canMoveTicket('closed', to)).toBe(false);
  });

  it('lets a customer message reopen a pending or resolved ticket', () => {
    expect(canMoveTicket('pending', 'open')).toBe(true);
    expect(canMoveTicket('resolved', 'open')).toBe(true);
  });

  it('refuses skipping back: a resolved ticket does not wait on the customer again, nothing stays put', () => {
    expect(canMoveTicket('resolved', 'pending')).toBe(false);
    for (const s of TICKET_STATUSES) expect(canMoveTicket(s, s)).toBe(false);
  });
});
