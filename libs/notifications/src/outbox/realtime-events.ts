/**
 * Every socket event and its one payload (API.md, Real time). The outbox takes only these, so an
 * event cannot be sent with two shapes from two places.
 */

/** `booking.created` / `booking.updated`, to the traveler and the organizer. */
export interface BookingChangedPayload {
  bookingId: string;
  tripId: string;
  status: string;
  paymentStatus: string;
  seats: number;
}

/** `payment.updated`, to the payer: the payment as it stands (money in paise). */
export interface PaymentUpdatedPayload {
  paymentId: string;
  bookingId: string | null;
  subscriptionId: string | null;
  method: string;
  status: string;
  amount: number;
  amountRefunded: number;
  currency: string;
}

/** `notification`, to one user: what the in-app list will show. */
export interface NotificationPayload {
  id: string;
  type: string;
  title: string;
  body: string;
  createdAt: string;
  [extra: string]: unknown;
}

/** `ticket.updated`, to the customer and the assignee (API.md, Support desk). */
export interface TicketUpdatedPayload {
  ticketId: string;
  status: string;
}

export interface RealtimeEvents {
  'ticket.updated': TicketUpdatedPayload;
  'booking.created': BookingChangedPayload;
  'booking.updated': BookingChangedPayload;
  /** To the trip's watchers (`trip:<id>` rooms). */
  'trip.seats': { tripId: string; seatsAvailable: number };
  'payment.updated': PaymentUpdatedPayload;
  /** To the organizer: the auto-pay status, and which change it was. */
  'subscription.updated': {
    subscriptionId: string;
    status: string;
    change: string;
    [field: string]: unknown;
  };
  notification: NotificationPayload;
  /** To every agent (`role:agent`): a payment proof nobody verified in 24 h. */
  'proof.escalated': { bookingId: string; proofId: string };
}

export type RealtimeEvent = keyof RealtimeEvents;
