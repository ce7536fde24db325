import { formatInr } from '@trektribe/common';
import { formatDateIst, PLAN, ReminderDay } from './subscription-plan';

export interface SubscriptionEmail {
  topic: string;
  subject: string;
  body: string;
}

const SIGN_OFF = '\n\nTeam TrekTribe';
const price = (amount: number) => `${formatInr(amount)} every ${PLAN.periodDays} days`;

/** The organizer-facing wording of every auto-pay email, in one place. */
export const subscriptionEmails = {
  trialEnding(name: string, trialEndsAt: Date, amount: number, hasPaymentMethod: boolean): SubscriptionEmail {
    return {
      topic: 'subscription.trial-ending',
      subject: `Your TrekTribe trial ends on ${formatDateIst(trialEndsAt)}`,
      body:
        `Hi ${name},\n\nYour free trial ends on ${formatDateIst(trialEndsAt)}. After that the organizer plan is ${price(amount)}. ` +
        (hasPaymentMethod
          ? 'Auto-pay is set up, so there is nothing for you to do.'
          : 'Set up auto-pay in your dashboard before then to keep your trips listed.') +
        SIGN_OFF,
    };
  },

  reminder(
    name: string,
    chargeAt: Date,
    amount: number,
    days: ReminderDay,
    hasPaymentMethod: boolean,
  ): SubscriptionEmail {
    return {
      topic: 'subscription.reminder',
      subject: `TrekTribe: ${formatInr(amount)} will be charged on ${formatDateIst(chargeAt)}`,
      body:
        `Hi ${name},\n\nIn about ${days} days, on ${formatDateIst(chargeAt)}, we will charge ${formatInr(amount)} for the next ${PLAN.periodDays} days of your organizer plan. ` +
        (hasPaymentMethod
          ? 'It is taken through your auto-pay mandate.'
          : 'Auto-pay is not set up yet: add a payment method in your dashboard.') +
        SIGN_OFF,
    };
  },

  mandateConfirmed(name: string, authorizationAmount: number): SubscriptionEmail {
    return {
      topic: 'subscription.mandate-confirmed',
      subject: 'TrekTribe: auto-pay is set up',
      body:
        `Hi ${name},\n\nYour bank has confirmed the auto-pay mandate for your organizer plan, so future payments are taken automatically. ` +
        `The ${formatInr(authorizationAmount)} authorisation payment you made while setting it up is being refunded in full; ` +
        'banks usually take 5–7 working days to show it.' +
        SIGN_OFF,
    };
  },

  noPaymentMethod(name: string, attempt: number, amount: number): SubscriptionEmail {
    const left = PLAN.maxFailedAttempts - attempt;
    return {
      topic: 'subscription.payment-method-missing',
      subject: 'TrekTribe: your plan payment is due, add a payment method',
      body:
        `Hi ${name},\n\nYour organizer plan (${price(amount)}) is due, but auto-pay is not set up. ` +
        (left > 0
          ? `Set it up from your dashboard: we will try again tomorrow, and after ${left} more day${left === 1 ? '' : 's'} without payment your trips will be hidden.`
          : 'Your trips are now hidden until auto-pay is set up and the payment goes through.') +
        SIGN_OFF,
    };
  },

  paymentFailed(
    name: string,
    amount: number,
    attempt: number,
    reason: string | null,
    willRetry: boolean,
  ): SubscriptionEmail {
    return {
      topic: 'subscription.payment-failed',
      subject: `TrekTribe: the ${formatInr(amount)} plan payment failed`,
      body:
        `Hi ${name},\n\nWe could not collect ${formatInr(amount)} for your organizer plan` +
        (reason ? ` (${reason})` : '') +
        '. ' +
        (willRetry
          ? `This was attempt ${attempt} of ${PLAN.maxFailedAttempts}; we will try again tomorrow. Please make sure your account has funds, or set up auto-pay again with another method.`
          : 'Your plan stays suspended: set up auto-pay again with another method to list your trips again.') +
        SIGN_OFF,
    };
  },

  suspended(name: string, amount: number, tripsHidden: number): SubscriptionEmail {
    return {
      topic: 'subscription.suspended',
      subject: 'TrekTribe: your organizer plan is suspended',
      body:
        `Hi ${name},\n\nAfter ${PLAN.maxFailedAttempts} unsuccessful attempts to collect ${formatInr(amount)}, your organizer plan is suspended. ` +
        `${tripsHidden} active trip${tripsHidden === 1 ? ' is' : 's are'} hidden from travelers; existing bookings stay valid. ` +
        'Set up auto-pay again from your dashboard: once the payment goes through, your trips are listed again.' +
        SIGN_OFF,
    };
  },

  paid(name: string, amount: number, periodEnd: Date, restored: number | null): SubscriptionEmail {
    return {
      topic: 'subscription.paid',
      subject: `TrekTribe: ${formatInr(amount)} received, thank you`,
      body:
        `Hi ${name},\n\nWe received ${formatInr(amount)} for your organizer plan. It now runs until ${formatDateIst(periodEnd)}.` +
        (restored !== null
          ? ` Your plan is active again and ${restored} trip${restored === 1 ? ' is' : 's are'} listed again.`
          : '') +
        SIGN_OFF,
    };
  },

  cancelRequested(name: string, periodEnd: Date): SubscriptionEmail {
    return {
      topic: 'subscription.cancel-requested',
      subject: 'TrekTribe: auto-pay cancelled',
      body: `Hi ${name},\n\nAuto-pay is cancelled: nothing more will be charged. Your plan runs until ${formatDateIst(periodEnd)}.${SIGN_OFF}`,
    };
  },

  cancelled(name: string): SubscriptionEmail {
    return {
      topic: 'subscription.cancelled',
      subject: 'TrekTribe: your organizer plan has ended',
      body: `Hi ${name},\n\nYour organizer plan has ended, so you cannot publish new trips. Set up auto-pay again from your dashboard whenever you want to come back.${SIGN_OFF}`,
    };
  },
};
