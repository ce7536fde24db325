/** Whether `tz` is an IANA timezone this runtime knows (Asia/Kolkata, Europe/London…). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// One formatter: toLocaleDateString with options builds a new Intl.DateTimeFormat on every call
// (3 % of the API's CPU in the charge-run bench, one per renewal email).
const IST_DATE = new Intl.DateTimeFormat('en-IN', {
  timeZone: 'Asia/Kolkata',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});

/** An instant's calendar day in IST, the platform's timezone, for people: "29 Mar 2027". */
export function formatDateIst(at: Date): string {
  return IST_DATE.format(at);
}
