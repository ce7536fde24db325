import { describe, expect, it } from 'vitest';
import { CATALOG, contentOf, NOTIFICATION_TYPES, NotificationData, NotificationType } from './catalog';
import { renderMessage } from './message';

const TRIP = { tripTitle: 'Kedarkantha Winter Trek', startDate: '2026-12-29' };
const PLAN = { amount: 149_900, periodDays: 60 };

/** One realistic notification of every type; the compiler refuses a type without a sample. */
const SAMPLES: { [T in NotificationType]: NotificationData<T> } = {
  'auth.verify_email': { code: 'q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6' },
  'auth.password_reset': { code: 'z9X8c7V6b5N4m3L2k1J0h9G8f7D6s5A4' },
  'auth.phone_code': { code: '482913' },
  'booking.confirmed': { ...TRIP, bookingId: 'b-1', seats: 2, amount: 14_999_900 },
  'booking.new': { ...TRIP, bookingId: 'b-1', seats: 2, amount: 1_899_800, travelerName: 'Asha Rao' },
  'booking.cancelled': { ...TRIP, bookingId: 'b-1', reason: 'Change of plans', refundAmount: 949_900 },
  'waitlist.offer': { ...TRIP, bookingId: 'b-2', seats: 1, expiresAt: '2026-12-20T12:30:00.000Z' },
  'trip.reminder': { ...TRIP, bookingId: 'b-1', destination: 'Uttarakhand', seats: 2 },
  'trip.cancelled': { ...TRIP, tripId: 't-1', reason: 'Heavy snowfall closed the route' },
  'trip.participants': {
    ...TRIP,
    tripId: 't-1',
    participants: [
      { name: 'Asha Rao', seats: 2 },
      { name: 'Vikram Singh', seats: 1 },
    ],
  },
  'waitlist.closed': { ...TRIP, why: 'trip_finished' },
  'trip.published': { ...TRIP, tripId: 't-1', organizerName: 'Himalayan Trails' },
  'payment.proof_submitted': {
    bookingId: 'b-1',
    proofId: 'p-1',
    tripTitle: TRIP.tripTitle,
    travelerName: 'Asha Rao',
    amount: 1_899_800,
    seats: 2,
    upiReference: '412345678901',
    duplicateOf: { sameOrganizer: true, bookingId: 'b-0', by: 'upi_reference' },
  },
  'payment.proof_verified': { bookingId: 'b-1', tripTitle: TRIP.tripTitle, amount: 1_899_800 },
  'payment.proof_rejected': {
    bookingId: 'b-1',
    tripTitle: TRIP.tripTitle,
    note: 'No credit in our account',
    holdExpiresAt: '2026-12-21T06:00:00.000Z',
  },
  'payment.proof_refund_due': { bookingId: 'b-1', amount: 1_899_800, why: 'seats_gone' },
  'payment.auto_refund': {
    tripTitle: TRIP.tripTitle,
    paid: 50_000,
    refundAmount: 50_000,
    reason: 'the amount paid does not match the booking',
  },
  'refund.processed': { bookingId: 'b-1', tripTitle: TRIP.tripTitle, amount: 949_900 },
  'subscription.trial_ending': { ...PLAN, trialEndsAt: '2027-01-28T18:30:00.000Z', hasPaymentMethod: false },
  'subscription.reminder': {
    ...PLAN,
    chargeAt: '2027-01-28T20:30:00.000Z',
    daysBefore: 3,
    hasPaymentMethod: true,
  },
  'subscription.mandate_confirmed': { authorizationAmount: 100 },
  'subscription.payment_method_missing': { ...PLAN, attemptsLeft: 2 },
  'subscription.charge_failed': {
    ...PLAN,
    attempt: 1,
    maxAttempts: 3,
    reason: 'insufficient funds',
    willRetry: true,
  },
  'subscription.suspended': { ...PLAN, maxAttempts: 3, tripsHidden: 4 },
  'subscription.paid': { ...PLAN, periodEnd: '2027-03-29T18:30:00.000Z', restored: 4 },
  'subscription.restored': { restored: 4 },
  'subscription.cancel_requested': { periodEnd: '2027-03-29T18:30:00.000Z' },
  'subscription.cancelled': undefined,
  'ticket.reply': {
    ticketId: 'tk-1',
    subject: 'Refund for my cancelled booking',
    reply: 'Your refund was sent today; banks take 5–7 working days.',
    agentName: 'Meera',
  },
  'ticket.overdue': {
    ticketId: 'tk-1',
    subject: 'Refund for my cancelled booking',
    customerName: 'Asha Rao',
    dueAt: '2026-12-01T08:30:00.000Z',
    priority: 'high',
    assigned: true,
  },
  'ticket.assigned': { ticketId: 'tk-1', subject: 'Refund for my cancelled booking', assignedBy: 'Ravi' },
  'auth.invite': { code: 'tok_abc123', role: 'agent', invitedBy: 'Ravi', hours: 72 },
};

const CTX = { name: 'Asha Rao', appUrl: 'https://trektribe.example' };
const render = (type: NotificationType, name = CTX.name) =>
  renderMessage(type, contentOf(type, SAMPLES[type] as never), { ...CTX, name });

describe('the notification catalog', () => {
  it('covers every type of the contract (API.md, Notifications)', () => {
    for (const type of [
      'booking.confirmed',
      'booking.new',
      'booking.cancelled',
      'payment.proof_submitted',
      'payment.proof_verified',
      'payment.proof_rejected',
      'refund.processed',
      'waitlist.offer',
      'trip.reminder',
      'trip.cancelled',
      'trip.published',
      'subscription.reminder',
      'subscription.trial_ending',
      'subscription.charge_failed',
      'subscription.suspended',
      'subscription.restored',
      'ticket.reply',
      'auth.password_reset',
      'auth.verify_email',
      'auth.phone_code',
    ]) {
      expect(NOTIFICATION_TYPES, type).toContain(type);
    }
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(CATALOG).sort());
  });

  describe.each(NOTIFICATION_TYPES)('%s', (type) => {
    const message = render(type);

    it('renders the same subject, text, SMS and in-app item (snapshot)', () => {
      expect({
        subject: message.subject,
        text: message.text,
        sms: message.sms,
        inApp: message.inApp,
      }).toMatchSnapshot();
    });

    it('renders the same HTML email (snapshot)', () => {
      expect(message.html).toMatchSnapshot();
    });

    it('fits an SMS in 300 characters and keeps the subject on one line', () => {
      expect(message.sms.length).toBeGreaterThan(0);
      expect(message.sms.length).toBeLessThanOrEqual(300);
      expect(message.subject).not.toMatch(/[\r\n]/);
      expect(message.inApp.title).toBe(message.subject);
      expect(message.inApp.body.length).toBeGreaterThan(0);
    });

    it('greets by name and links into the web app over PUBLIC_APP_URL only', () => {
      expect(message.text.startsWith(`Hi ${CTX.name},\n\n`)).toBe(true);
      for (const url of message.html.match(/href="[^"]*"/g) ?? []) {
        expect(url).toMatch(/^href="https:\/\/trektribe\.example\//);
      }
    });
  });

  it('writes amounts the Indian way and trip dates as the trip has them', () => {
    const confirmed = render('booking.confirmed');
    expect(confirmed.text).toContain('We received ₹1,49,999.');
    expect(confirmed.text).toContain('from Tue, 29 Dec 2026 are confirmed');
    expect(render('booking.cancelled').text).toContain('A refund of ₹9,499 is on its way.');
    expect(render('payment.auto_refund').text).toContain('₹500');
  });

  it('never lets a name or a trip title inject HTML or a header', () => {
    const evilName = '<script>alert(1)</script> "Asha"';
    const data = {
      ...SAMPLES['booking.confirmed'],
      tripTitle: 'Trek"><img src=x onerror=alert(1)>\r\nBcc: all@x',
    };
    const message = renderMessage('booking.confirmed', contentOf('booking.confirmed', data), {
      ...CTX,
      name: evilName,
    });
    expect(message.html).not.toContain('<script>');
    expect(message.html).not.toContain('<img');
    expect(message.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;Asha&quot;');
    expect(message.html).toContain('Trek&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(message.subject).not.toMatch(/[\r\n]/);
    expect(message.subject).toBe('Booking confirmed: Trek"><img src=x onerror=alert(1)> Bcc: all@x');
  });

  it('clips a very long title to the inbox column and the text to 300 characters, never mid-character', () => {
    const data = { ...SAMPLES['trip.published'], tripTitle: '🏔'.repeat(200), organizerName: 'O'.repeat(200) };
    const message = renderMessage('trip.published', contentOf('trip.published', data), CTX);
    expect([...message.subject].length).toBe(300);
    expect(message.subject.endsWith('…')).toBe(true);
    expect([...message.sms].length).toBeLessThanOrEqual(300);
    expect(message.subject).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate
  });
});
