import { formatDateIst, formatInr } from '@trektribe/common';
import type { MessageContent } from './message';

/** Plan dates are instants; organizers read them in IST (the platform's timezone). */
const dateIst = (iso: string) => formatDateIst(new Date(iso));
const price = (amount: number, periodDays: number) => `${formatInr(amount)} every ${periodDays} days`;
const DASHBOARD = { label: 'Open your plan', path: '/organizer/plan' };

interface Plan {
  /** Paise per period. */
  amount: number;
  periodDays: number;
}

/** The organizer plan's messages (API.md, Auto-pay). Instants are ISO strings, shown in IST. */
export const subscriptionMessages = {
  'subscription.trial_ending': (
    d: Plan & { trialEndsAt: string; hasPaymentMethod: boolean },
  ): MessageContent => ({
    title: `Your TrekTribe trial ends on ${dateIst(d.trialEndsAt)}`,
    paragraphs: [
      `Your free trial ends on ${dateIst(d.trialEndsAt)}. After that the organizer plan is ${price(d.amount, d.periodDays)}. ` +
        (d.hasPaymentMethod
          ? 'Auto-pay is set up, so there is nothing for you to do.'
          : 'Set up auto-pay in your dashboard before then to keep your trips listed.'),
    ],
    action: DASHBOARD,
    sms: `TrekTribe: your trial ends on ${dateIst(d.trialEndsAt)}. ${d.hasPaymentMethod ? 'Auto-pay is set up.' : 'Set up auto-pay to keep your trips listed.'}`,
  }),
  'subscription.reminder': (
    d: Plan & { chargeAt: string; daysBefore: number; hasPaymentMethod: boolean },
  ): MessageContent => ({
    title: `TrekTribe: ${formatInr(d.amount)} will be charged on ${dateIst(d.chargeAt)}`,
    paragraphs: [
      `In about ${d.daysBefore} days, on ${dateIst(d.chargeAt)}, we will charge ${formatInr(d.amount)} for the next ${d.periodDays} days of your organizer plan. ` +
        (d.hasPaymentMethod
          ? 'It is taken through your auto-pay mandate.'
          : 'Auto-pay is not set up yet: add a payment method in your dashboard.'),
    ],
    action: DASHBOARD,
    sms: `TrekTribe: ${formatInr(d.amount)} will be charged on ${dateIst(d.chargeAt)} for your organizer plan.`,
  }),
  'subscription.mandate_confirmed': (d: { authorizationAmount: number }): MessageContent => ({
    title: 'TrekTribe: auto-pay is set up',
    paragraphs: [
      'Your bank has confirmed the auto-pay mandate for your organizer plan, so future payments are taken automatically. ' +
        `The ${formatInr(d.authorizationAmount)} authorisation payment you made while setting it up is being refunded in full; ` +
        'banks usually take 5–7 working days to show it.',
    ],
    action: DASHBOARD,
    sms: `TrekTribe: auto-pay is set up. The ${formatInr(d.authorizationAmount)} authorisation payment is being refunded.`,
  }),
  'subscription.payment_method_missing': (d: Plan & { attemptsLeft: number }): MessageContent => ({
    title: 'TrekTribe: your plan payment is due, add a payment method',
    paragraphs: [
      `Your organizer plan (${price(d.amount, d.periodDays)}) is due, but auto-pay is not set up. ` +
        (d.attemptsLeft > 0
          ? `Set it up from your dashboard: we will try again tomorrow, and after ${d.attemptsLeft} more day${d.attemptsLeft === 1 ? '' : 's'} without payment your trips will be hidden.`
          : 'Your trips are now hidden until auto-pay is set up and the payment goes through.'),
    ],
    action: DASHBOARD,
    sms: 'TrekTribe: your organizer plan is due and auto-pay is not set up. Add a payment method to keep your trips listed.',
  }),
  'subscription.charge_failed': (
    d: Plan & { attempt: number; maxAttempts: number; reason: string | null; willRetry: boolean },
  ): MessageContent => ({
    title: `TrekTribe: the ${formatInr(d.amount)} plan payment failed`,
    paragraphs: [
      `We could not collect ${formatInr(d.amount)} for your organizer plan` +
        (d.reason ? ` (${d.reason})` : '') +
        '. ' +
        (d.willRetry
          ? `This was attempt ${d.attempt} of ${d.maxAttempts}; we will try again tomorrow. Please make sure your account has funds, or set up auto-pay again with another method.`
          : 'Your plan stays suspended: set up auto-pay again with another method to list your trips again.'),
    ],
    action: DASHBOARD,
    sms: `TrekTribe: the ${formatInr(d.amount)} plan payment failed.${d.willRetry ? ' We will try again tomorrow.' : ''}`,
  }),
  'subscription.suspended': (d: Plan & { maxAttempts: number; tripsHidden: number }): MessageContent => ({
    title: 'TrekTribe: your organizer plan is suspended',
    paragraphs: [
      `After ${d.maxAttempts} unsuccessful attempts to collect ${formatInr(d.amount)}, your organizer plan is suspended. ` +
        `${d.tripsHidden} active trip${d.tripsHidden === 1 ? ' is' : 's are'} hidden from travelers; existing bookings stay valid. ` +
        'Set up auto-pay again from your dashboard: once the payment goes through, your trips are listed again.',
    ],
    action: DASHBOARD,
    sms: `TrekTribe: your organizer plan is suspended and ${d.tripsHidden} trip(s) are hidden. Set up auto-pay again to list them.`,
  }),
  'subscription.paid': (d: Plan & { periodEnd: string; restored: number | null }): MessageContent => ({
    title: `TrekTribe: ${formatInr(d.amount)} received, thank you`,
    paragraphs: [
      `We received ${formatInr(d.amount)} for your organizer plan. It now runs until ${dateIst(d.periodEnd)}.` +
        (d.restored !== null
          ? ` Your plan is active again and ${d.restored} trip${d.restored === 1 ? ' is' : 's are'} listed again.`
          : ''),
    ],
    action: DASHBOARD,
    sms: `TrekTribe: ${formatInr(d.amount)} received; your plan runs until ${dateIst(d.periodEnd)}.`,
  }),
  'subscription.restored': (d: { restored: number }): MessageContent => ({
    title: 'TrekTribe: your organizer plan is active again',
    paragraphs: [
      `Your plan is active again and ${d.restored} trip${d.restored === 1 ? ' is' : 's are'} listed again.`,
    ],
    action: DASHBOARD,
    sms: `TrekTribe: your plan is active again; ${d.restored} trip(s) listed again.`,
  }),
  'subscription.cancel_requested': (d: { periodEnd: string }): MessageContent => ({
    title: 'TrekTribe: auto-pay cancelled',
    paragraphs: [
      `Auto-pay is cancelled: nothing more will be charged. Your plan runs until ${dateIst(d.periodEnd)}.`,
    ],
    action: DASHBOARD,
    sms: `TrekTribe: auto-pay cancelled. Your plan runs until ${dateIst(d.periodEnd)}.`,
  }),
  'subscription.cancelled': (): MessageContent => ({
    title: 'TrekTribe: your organizer plan has ended',
    paragraphs: [
      'Your organizer plan has ended, so you cannot publish new trips. Set up auto-pay again from your dashboard whenever you want to come back.',
    ],
    action: DASHBOARD,
    sms: 'TrekTribe: your organizer plan has ended. Set up auto-pay again to publish trips.',
  }),
};
