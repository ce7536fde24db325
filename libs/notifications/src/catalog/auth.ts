import type { MessageContent } from './message';

/** Security mail: always sent by email, whatever the preferences (API.md: `auth.*` cannot be turned off). */
export const authMessages = {
  'auth.verify_email': (d: { code: string }): MessageContent => ({
    title: 'Verify your TrekTribe email',
    paragraphs: ['Confirm your email with this code:', d.code, 'It expires in 48 hours.'],
    action: { label: 'Verify your email', path: '/verify-email' },
    sms: `TrekTribe: your email verification code is ${d.code}. It expires in 48 hours.`,
    inAppBody: 'Check your email for the verification code.',
  }),
  'auth.password_reset': (d: { code: string }): MessageContent => ({
    title: 'Reset your TrekTribe password',
    paragraphs: [
      'Reset your password with this code:',
      d.code,
      'It expires in 30 minutes. If you did not ask for this, ignore this email.',
    ],
    action: { label: 'Choose a new password', path: '/reset-password' },
    sms: `TrekTribe: your password reset code is ${d.code}. It expires in 30 minutes. Did not ask? Ignore this.`,
    inAppBody: 'A password reset was requested for your account.',
  }),
  'auth.phone_code': (d: { code: string }): MessageContent => ({
    title: 'Your TrekTribe phone code',
    paragraphs: [`Your phone verification code is ${d.code}. It expires in 10 minutes.`],
    sms: `TrekTribe: your phone verification code is ${d.code}. It expires in 10 minutes.`,
  }),
  /**
   * An admin created an agent or admin account: the link sets its first password (single use). The
   * token rides in the fragment, which browsers send to no server (no Referer, no access log).
   */
  'auth.invite': (d: {
    code: string;
    role: 'agent' | 'admin';
    invitedBy: string;
    hours: number;
  }): MessageContent => ({
    title: 'Your TrekTribe account is ready',
    paragraphs: [
      `${d.invitedBy} created a TrekTribe ${d.role} account for you. Choose your password to sign in.`,
      `The link works once and expires in ${d.hours} hours. If you did not expect this, ignore this email.`,
    ],
    action: { label: 'Choose your password', path: `/reset-password#token=${encodeURIComponent(d.code)}` },
    sms: `TrekTribe: ${d.invitedBy} created a ${d.role} account for you. Check your email to choose a password.`,
    inAppBody: 'Choose your password from the link in your email.',
  }),
};
