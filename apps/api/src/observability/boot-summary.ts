import type { AppConfig } from '@trektribe/common';

/** `host:port/path` of a URL, never its user or password. */
function where(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'set';
  }
}

/**
 * The one line an operator reads at start: where the API listens, which database it uses and what is
 * configured (SMTP, Twilio, Razorpay, Redis, the scheduler, metrics). No secret is ever printed.
 */
export function bootSummary(config: AppConfig, readyMs: number): string {
  const r = config.razorpay;
  const t = config.twilio;
  const texts = [t.smsFrom && 'SMS', t.whatsappFrom && 'WhatsApp'].filter(Boolean).join(' + ');
  const parts = [
    `database: ${config.databaseUrl ? `PostgreSQL server ${where(config.databaseUrl)}` : `embedded PGlite in ${config.dataDir}`}`,
    `SMTP: ${config.mail.smtpUrl ? where(config.mail.smtpUrl) : config.nodeEnv === 'production' ? 'off (mail skipped)' : 'off (mail at /api/v1/dev/mailbox)'}`,
    `Twilio: ${t.accountSid ? texts || 'no sender' : 'off'}`,
    `Razorpay: ${r.keyId ? `${r.keyId.startsWith('rzp_live_') ? 'live' : 'test'} key${r.webhookSecret ? ', webhooks on' : ', no webhook secret'}` : 'off'}`,
    `Redis: ${config.redisUrl ? where(config.redisUrl) : 'off (single instance)'}`,
    `scheduler: ${config.schedulerEnabled ? 'on' : 'off'}`,
    `metrics: /metrics${config.metricsToken ? ' (token)' : ''}`,
  ];
  return `TrekTribe API (${config.nodeEnv}) ready in ${readyMs} ms on http://localhost:${config.port}/api/v1 (docs /api/docs) | ${parts.join(' | ')}`;
}
