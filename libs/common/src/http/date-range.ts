import { applyDecorators } from '@nestjs/common';
import { IsISO8601, Matches, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * Date filters of the admin lists (`from`/`to`, `startFrom`/`startTo`): calendar days, the people's
 * days of the platform, cut in IST (Asia/Kolkata, UTC+05:30 all year: India has no daylight saving).
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const IST_OFFSET_MS = (5 * 60 + 30) * 60_000;
const DAY_MS = 86_400_000;

/** The instant an IST calendar day (YYYY-MM-DD) begins. */
export function istDayStart(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - IST_OFFSET_MS);
}

/** The instant the IST calendar day after `date` begins: `to` is the whole day, so `< istDayEnd(to)`. */
export function istDayEnd(date: string): Date {
  return new Date(istDayStart(date).getTime() + DAY_MS);
}

/** An instant's calendar day in IST, as YYYY-MM-DD. */
export function istDate(at: Date): string {
  return new Date(at.getTime() + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** A real calendar date written YYYY-MM-DD (2026-02-30 → 400). */
export function IsDateOnly(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    Matches(DATE_ONLY, { message: '$property must be a date written YYYY-MM-DD', ...options }),
    IsISO8601({ strict: true }, { message: '$property must be a real calendar date', ...options }),
  );
}

/**
 * The end of a range may not come before its start (`?from=2026-03-10&to=2026-03-01` → 400 rather than
 * an empty list that looks like "nothing happened"). Both YYYY-MM-DD dates: compared as days. An
 * instant on either side (the payments list accepts both): compared as instants, a date standing for
 * its whole IST day.
 */
export function NotBefore(startField: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'notBefore',
      constraints: [startField],
      validator: {
        validate: (end: unknown, args) => {
          const start = (args?.object as Record<string, unknown> | undefined)?.[startField];
          if (typeof end !== 'string' || typeof start !== 'string') return true;
          const from = DATE_ONLY.test(start) ? istDayStart(start).getTime() : Date.parse(start);
          const to = DATE_ONLY.test(end) ? istDayEnd(end).getTime() - 1 : Date.parse(end);
          // Unparseable values are the format rules' to report.
          return Number.isNaN(from) || Number.isNaN(to) || from <= to;
        },
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must not be before ${startField} (the range is reversed)`,
      },
    },
    options,
  );
}
