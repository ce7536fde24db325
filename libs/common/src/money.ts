// Built once: toLocaleString with options builds a new Intl.NumberFormat on every call.
const WHOLE = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const WITH_PAISE = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Money is integer paise everywhere; this formats it for people (emails, notes): ₹1,499 or ₹1,499.50. */
export function formatInr(paise: number): string {
  return '₹' + (paise % 100 ? WITH_PAISE : WHOLE).format(paise / 100);
}

/** Rounds a percentage share down to whole paise, so a refund never exceeds what was paid. */
export function percentOf(paise: number, percent: number): number {
  return Math.floor((paise * percent) / 100);
}
