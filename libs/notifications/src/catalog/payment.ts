import { formatInr } from '@trektribe/common';
import { formatInstantIst, type MessageContent } from './message';

const PROOF_REFUND_WHY = {
  seats_gone: 'the seats were released before the payment was verified and are no longer available',
  booking_cancelled: 'the booking was cancelled before the payment was verified',
  already_paid: 'the booking had already been paid',
} as const;

/** Screenshot payments, money that cannot be kept, and refunds. Amounts are paise. */
export const paymentMessages = {
  'payment.proof_submitted': (d: {
    bookingId: string;
    proofId: string;
    tripTitle: string;
    travelerName: string;
    amount: number;
    seats: number;
    upiReference: string | null;
    /** The same image or UPI reference was used before: where. */
    duplicateOf: { sameOrganizer: boolean; bookingId: string | null; by: 'image' | 'upi_reference' } | null;
  }): MessageContent => {
    const where = d.duplicateOf?.sameOrganizer
      ? `another booking (${d.duplicateOf.bookingId})`
      : "a booking on another organizer's trip";
    const warning = d.duplicateOf
      ? ` Warning: the same ${d.duplicateOf.by === 'image' ? 'image' : 'UPI reference'} was already used for ${where}. Check your account statement before approving.`
      : '';
    const body =
      `${d.travelerName} uploaded a payment proof of ${formatInr(d.amount)} for ${d.seats} seat(s) on ${d.tripTitle}` +
      (d.upiReference ? ` (UPI reference ${d.upiReference})` : '') +
      '. Approve it once the money is in your account, or reject it with a note.' +
      warning;
    return {
      title: `A payment proof awaits your verification: ${d.tripTitle}`,
      paragraphs: [body, `Booking: ${d.bookingId}`],
      action: { label: 'Review the proof', path: `/organizer/bookings/${d.bookingId}` },
      sms: `TrekTribe: ${d.travelerName} sent a payment proof of ${formatInr(d.amount)} for ${d.tripTitle}. Review it in your dashboard.`,
      inAppBody: body,
    };
  },
  'payment.proof_verified': (d: {
    bookingId: string;
    tripTitle: string;
    amount: number;
  }): MessageContent => ({
    title: `Payment received: ${d.tripTitle}`,
    paragraphs: [`The organizer confirmed your payment of ${formatInr(d.amount)} for ${d.tripTitle}.`],
    action: { label: 'View your booking', path: `/bookings/${d.bookingId}` },
    sms: `TrekTribe: the organizer confirmed your payment of ${formatInr(d.amount)} for ${d.tripTitle}.`,
  }),
  'payment.proof_rejected': (d: {
    bookingId: string;
    tripTitle: string;
    note: string | null;
    holdExpiresAt: string | null;
  }): MessageContent => {
    const reason = d.note ? `The organizer's note: "${d.note}"` : 'The organizer gave no reason.';
    const next = d.holdExpiresAt
      ? ` Your seats stay held until ${formatInstantIst(d.holdExpiresAt)}: upload a new proof before then, or they will be released.`
      : '';
    const body = `Your payment proof for booking ${d.bookingId} on ${d.tripTitle} was not accepted. ${reason}${next}`;
    return {
      title: `Payment proof not accepted: ${d.tripTitle}`,
      paragraphs: [body],
      action: { label: 'Upload a new proof', path: `/bookings/${d.bookingId}` },
      sms: `TrekTribe: your payment proof for ${d.tripTitle} was not accepted.${d.holdExpiresAt ? ` Upload a new one before ${formatInstantIst(d.holdExpiresAt)}.` : ''}`,
    };
  },
  'payment.proof_refund_due': (d: {
    bookingId: string;
    amount: number;
    /** Why the approved payment cannot be kept. */
    why: 'seats_gone' | 'booking_cancelled' | 'already_paid';
  }): MessageContent => ({
    title: 'Your payment will be refunded',
    paragraphs: [
      `We received your payment of ${formatInr(d.amount)} for booking ${d.bookingId}, but ${PROOF_REFUND_WHY[d.why]}.`,
      'The full amount will be paid back to you; our team will contact you about the transfer.',
    ],
    sms: `TrekTribe: your payment of ${formatInr(d.amount)} for booking ${d.bookingId} will be paid back to you in full.`,
  }),
  'payment.auto_refund': (d: {
    tripTitle: string;
    paid: number;
    refundAmount: number;
    reason: string;
  }): MessageContent => ({
    title: `Your payment for ${d.tripTitle} is being refunded`,
    paragraphs: [
      `We received your payment of ${formatInr(d.paid)} for ${d.tripTitle}, but ${d.reason}. We have started a full refund of ${formatInr(d.refundAmount)}; you will get another email once it is processed.`,
    ],
    sms: `TrekTribe: your payment of ${formatInr(d.paid)} for ${d.tripTitle} is being refunded in full (${formatInr(d.refundAmount)}).`,
  }),
  'refund.processed': (d: { bookingId: string; tripTitle: string; amount: number }): MessageContent => ({
    title: `Refund processed: ${d.tripTitle}`,
    paragraphs: [
      `Your refund of ${formatInr(d.amount)} for ${d.tripTitle} has been processed. Banks usually take 5–7 working days to show it.`,
    ],
    action: { label: 'View your booking', path: `/bookings/${d.bookingId}` },
    sms: `TrekTribe: your refund of ${formatInr(d.amount)} for ${d.tripTitle} has been processed; banks take 5–7 working days.`,
  }),
};
