/** A daily window in a timezone, `HH:MM`–`HH:MM`; it may cross midnight (22:00–07:00). */
export interface QuietHours {
  start: string;
  end: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isHhMm(s: unknown): s is string {
  return typeof s === 'string' && HHMM.test(s);
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight at `at` in `timeZone`. */
function localMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * When a text may go out (API.md: never between 22:00 and 07:00 in the user's timezone; they wait
 * until the end). `at` itself outside the window, or no window: `at`. Inside: the window's end,
 * to the minute (DST shifts of an hour at most move it by that hour, never into the window).
 */
export function nextAllowedAt(at: Date, quiet: QuietHours | null, timeZone: string): Date {
  if (!quiet || quiet.start === quiet.end) return at;
  const now = localMinutes(at, timeZone);
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return at;
  const wait = (end - now + 24 * 60) % (24 * 60);
  const next = new Date(at.getTime() + wait * 60_000);
  next.setUTCSeconds(0, 0);
  return next;
}
