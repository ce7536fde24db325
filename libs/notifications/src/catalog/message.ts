import Handlebars from 'handlebars';

/**
 * What a catalog entry writes for one notification, in plain words. The channels' forms are made
 * from it: the email's subject, HTML and text parts, the SMS/WhatsApp text and the in-app item.
 */
export interface MessageContent {
  /** Email subject and in-app title: one line, no markup. */
  title: string;
  /** Paragraphs of the email, in order; plain text (escaped in HTML). */
  paragraphs: string[];
  /** "Key: value" lines shown as a small table (trip, amount, booking…). */
  facts?: [string, string][];
  /** The one thing to do next, as a link into the web app (PUBLIC_APP_URL + path). */
  action?: { label: string; path: string };
  /** SMS and WhatsApp text; ≤ 300 characters once rendered (checked by the catalog spec). */
  sms: string;
  /** In-app body; defaults to the first paragraph. */
  inAppBody?: string;
}

export interface RenderContext {
  /** The recipient's name as the users table has it. */
  name: string;
  /** PUBLIC_APP_URL, without a trailing slash. */
  appUrl: string;
}

export interface RenderedMessage {
  type: string;
  subject: string;
  text: string;
  html: string;
  sms: string;
  inApp: { title: string; body: string };
}

// Handlebars escapes every {{value}} for HTML (& < > " ' ` =), so a traveler named
// `<script>` or a trip titled `"><img onerror=…>` arrives as text. Triple braces are never used.
const hbs = Handlebars.create();
const LAYOUT = hbs.compile(
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title></head>
<body style="margin:0;padding:0;background:#f4f6f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1d2b24">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f6f5"><tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px">
<tr><td style="padding:20px 24px;border-bottom:1px solid #e3e8e5;font-weight:700;font-size:18px;color:#1f6f4a">TrekTribe</td></tr>
<tr><td style="padding:24px">
<h1 style="margin:0 0 16px;font-size:20px;line-height:1.3">{{title}}</h1>
<p style="margin:0 0 12px;line-height:1.5">Hi {{name}},</p>
{{#each paragraphs}}<p style="margin:0 0 12px;line-height:1.5">{{this}}</p>
{{/each}}{{#if facts.length}}<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 16px;font-size:14px">
{{#each facts}}<tr><td style="padding:2px 16px 2px 0;color:#5b6b63">{{this.[0]}}</td><td style="padding:2px 0">{{this.[1]}}</td></tr>
{{/each}}</table>
{{/if}}{{#if action}}<p style="margin:20px 0 8px"><a href="{{action.url}}" style="display:inline-block;background:#1f6f4a;color:#ffffff;text-decoration:none;padding:10px 18px;border-radius:6px">{{action.label}}</a></p>
{{/if}}</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e3e8e5;font-size:12px;color:#5b6b63">You get this email because you have a TrekTribe account.</td></tr>
</table></td></tr></table>
</body></html>
`,
  { strict: false },
);

/** The longest SMS/WhatsApp text (issue 12): ₹ makes it UCS-2, so this is at most 5 segments. */
export const SMS_MAX = 300;

/** At most `max` code points, ending with … when cut (never splitting a surrogate pair). */
function clip(s: string, max: number): string {
  const points = [...s];
  return points.length <= max ? s : points.slice(0, max - 1).join('') + '…';
}

/** One line: CR, LF and other controls would split a header (the subject) or an SMS. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove control characters
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}

/** The channels' forms of a message (see MessageContent); `type` only labels it. */
export function renderMessage(type: string, content: MessageContent, ctx: RenderContext): RenderedMessage {
  // The inbox's title column is 300 characters: a long trip title must not abort the caller's change.
  const title = clip(oneLine(content.title), 300);
  const action = content.action
    ? { label: content.action.label, url: `${ctx.appUrl}${content.action.path}` }
    : undefined;
  const facts = content.facts ?? [];
  const text =
    [
      `Hi ${ctx.name},`,
      ...content.paragraphs,
      ...(facts.length ? [facts.map(([k, v]) => `${k}: ${v}`).join('\n')] : []),
      ...(action ? [`${action.label}: ${action.url}`] : []),
    ].join('\n\n') + '\n';
  const html = LAYOUT({ title, name: ctx.name, paragraphs: content.paragraphs, facts, action });
  return {
    type,
    subject: title,
    text,
    html,
    sms: clip(oneLine(content.sms), SMS_MAX),
    inApp: { title, body: oneLine(content.inAppBody ?? content.paragraphs[0] ?? '') },
  };
}

const DATE = new Intl.DateTimeFormat('en-IN', {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
});

/** A trip's local date (`YYYY-MM-DD`, already in the trip's timezone) for people: "Sat, 12 Dec 2026". */
export function formatTripDate(localDate: string): string {
  const [y, m, d] = localDate.split('-').map(Number);
  if (!y || !m || !d) return localDate;
  const part = Object.fromEntries(
    DATE.formatToParts(new Date(Date.UTC(y, m - 1, d))).map((p) => [p.type, p.value]),
  );
  return `${part.weekday}, ${part.day} ${part.month} ${part.year}`;
}

const INSTANT = new Intl.DateTimeFormat('en-IN', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: true,
  timeZone: 'Asia/Kolkata',
  timeZoneName: 'short',
});

/** An instant for people, in IST (the platform's timezone): "12 Dec 2026, 06:30 pm IST". */
export function formatInstantIst(iso: string | Date): string {
  return INSTANT.format(typeof iso === 'string' ? new Date(iso) : iso);
}
