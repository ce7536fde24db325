/** Money is integer paise everywhere; this formats it for people (emails, notes). */
export function formatInr(paise: number): string {
  const rupees = paise / 100;
  return '₹' + rupees.toLocaleString('en-IN', { minimumFractionDigits: paise % 100 ? 2 : 0, maximumFractionDigits: 2 });
}

/** Rounds a percentage share down to whole paise, so a refund never exceeds what was paid. */
export function percentOf(paise: number, percent: number): number {
  return Math.floor((paise * percent) / 100);
}
