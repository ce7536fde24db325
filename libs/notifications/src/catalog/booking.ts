import { formatInr } from '@trektribe/common';
import { formatInstantIst, formatTripDate, type MessageContent } from './message';

export interface TripRef {
  tripTitle: string;
  /** The trip's first day, `YYYY-MM-DD` in the trip's own timezone. */
  startDate: string;
}

const bookingLink = (bookingId: string) => ({ label: 'View your booking', path: `/bookings/${bookingId}` });

/** Travelers' and organizers' booking messages. Amounts are paise. */
export const bookingMessages = {
  'booking.confirmed': (
    d: TripRef & { bookingId: string; seats: number; amount: number },
  ): MessageContent => ({
    title: `Booking confirmed: ${d.tripTitle}`,
    paragraphs: [
      `Your ${d.seats} seat(s) on ${d.tripTitle} from ${formatTripDate(d.startDate)} are confirmed. We received ${formatInr(d.amount)}.`,
    ],
    facts: [
      ['Trip', d.tripTitle],
      ['Starts', formatTripDate(d.startDate)],
      ['Seats', String(d.seats)],
      ['Paid', formatInr(d.amount)],
    ],
    action: bookingLink(d.bookingId),
    sms: `TrekTribe: booking confirmed for ${d.tripTitle} on ${formatTripDate(d.startDate)}, ${d.seats} seat(s), ${formatInr(d.amount)} received.`,
  }),
  'booking.new': (
    d: TripRef & { bookingId: string; seats: number; amount: number; travelerName: string },
  ): MessageContent => ({
    title: `New booking: ${d.tripTitle}`,
    paragraphs: [
      `${d.travelerName} booked ${d.seats} seat(s) on ${d.tripTitle} (${formatTripDate(d.startDate)}) for ${formatInr(d.amount)}.`,
    ],
    action: { label: 'Open the booking', path: `/organizer/bookings/${d.bookingId}` },
    sms: `TrekTribe: ${d.travelerName} booked ${d.seats} seat(s) on ${d.tripTitle} (${formatTripDate(d.startDate)}).`,
  }),
  'booking.cancelled': (
    d: TripRef & { bookingId: string; reason: string | null; refundAmount: number },
  ): MessageContent => ({
    title: `Booking cancelled: ${d.tripTitle}`,
    paragraphs: [
      `Your booking for ${d.tripTitle} (${formatTripDate(d.startDate)}) was cancelled${d.reason ? `: ${d.reason}` : ''}.`,
      ...(d.refundAmount > 0 ? [`A refund of ${formatInr(d.refundAmount)} is on its way.`] : []),
    ],
    action: bookingLink(d.bookingId),
    sms:
      `TrekTribe: your booking for ${d.tripTitle} (${formatTripDate(d.startDate)}) was cancelled.` +
      (d.refundAmount > 0 ? ` Refund of ${formatInr(d.refundAmount)} on its way.` : ''),
  }),
  'waitlist.offer': (
    d: TripRef & { bookingId: string; seats: number; expiresAt: string },
  ): MessageContent => ({
    title: `Seats opened up: ${d.tripTitle}`,
    paragraphs: [
      `${d.seats} seat(s) on ${d.tripTitle} (${formatTripDate(d.startDate)}) are held for you until ${formatInstantIst(d.expiresAt)}. Pay for booking ${d.bookingId} before then to keep them.`,
    ],
    action: { label: 'Pay and keep the seats', path: `/bookings/${d.bookingId}` },
    sms: `TrekTribe: ${d.seats} seat(s) on ${d.tripTitle} are held for you until ${formatInstantIst(d.expiresAt)}. Pay to keep them.`,
  }),
  'trip.reminder': (
    d: TripRef & { bookingId: string; destination: string; seats: number },
  ): MessageContent => ({
    title: `Tomorrow: ${d.tripTitle}`,
    paragraphs: [
      `Your trip ${d.tripTitle} (${d.destination}) starts tomorrow, ${formatTripDate(d.startDate)}. You have ${d.seats} seat(s). Pack warm and carry your ID.`,
    ],
    action: bookingLink(d.bookingId),
    sms: `TrekTribe: ${d.tripTitle} (${d.destination}) starts tomorrow, ${formatTripDate(d.startDate)}. ${d.seats} seat(s). Pack warm, carry your ID.`,
  }),
  'trip.participants': (
    d: TripRef & { tripId: string; participants: { name: string; seats: number }[] },
  ): MessageContent => {
    const seats = d.participants.reduce((n, p) => n + p.seats, 0);
    return {
      title: `Tomorrow: ${d.tripTitle}, ${seats} traveller seat(s)`,
      paragraphs: [
        `${d.tripTitle} starts tomorrow, ${formatTripDate(d.startDate)}. These confirmed travellers are coming (${seats} seat(s) in all):`,
        ...d.participants.map((p) => `${p.name}: ${p.seats} seat(s)`),
      ],
      action: { label: 'Open the participant list', path: `/organizer/trips/${d.tripId}/bookings` },
      sms: `TrekTribe: ${d.tripTitle} starts tomorrow with ${seats} confirmed seat(s) from ${d.participants.length} booking(s).`,
      inAppBody: `${d.tripTitle} starts tomorrow: ${seats} confirmed seat(s) from ${d.participants.length} booking(s).`,
    };
  },
  'waitlist.closed': (d: TripRef & { why: 'trip_cancelled' | 'trip_finished' }): MessageContent => ({
    title: `Waitlist closed: ${d.tripTitle}`,
    paragraphs: [
      d.why === 'trip_cancelled'
        ? `The organizer cancelled ${d.tripTitle} (${formatTripDate(d.startDate)}), so its waitlist is closed.`
        : `${d.tripTitle} (${formatTripDate(d.startDate)}) has taken place without a seat opening up, so its waitlist is closed.`,
      'Nothing was charged. Have a look at other treks on those dates.',
    ],
    action: { label: 'Find another trek', path: '/trips' },
    sms: `TrekTribe: the waitlist for ${d.tripTitle} is closed; nothing was charged.`,
  }),
  'trip.cancelled': (d: TripRef & { tripId: string; reason: string | null }): MessageContent => ({
    title: `Trip cancelled: ${d.tripTitle}`,
    paragraphs: [
      `The organizer cancelled ${d.tripTitle} (${formatTripDate(d.startDate)})${d.reason ? `: ${d.reason}` : ''}.`,
    ],
    action: { label: 'Find another trek', path: '/trips' },
    sms: `TrekTribe: ${d.tripTitle} (${formatTripDate(d.startDate)}) was cancelled by the organizer.`,
  }),
  'trip.published': (d: TripRef & { tripId: string; organizerName: string }): MessageContent => ({
    title: `New trip from ${d.organizerName}: ${d.tripTitle}`,
    paragraphs: [`${d.organizerName} published ${d.tripTitle}, starting ${formatTripDate(d.startDate)}.`],
    action: { label: 'See the trip', path: `/trips/${d.tripId}` },
    sms: `TrekTribe: ${d.organizerName} published ${d.tripTitle}, starting ${formatTripDate(d.startDate)}.`,
  }),
};
