import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsObject, ValidateBy, ValidateNested, ValidationOptions } from 'class-validator';

/**
 * Rules every request input obeys, whatever the field (the validation pipe applies them to each
 * string and key of a body, query or path before the DTO's own rules), and the decorators that say
 * what shape of text or nesting a DTO field takes. Why these exist: PostgreSQL refuses a lone UTF-16
 * surrogate in jsonb and NUL in text (a 500 otherwise), control characters in a name end up in email
 * headers, CSV exports and logs, and class-validator's ValidateNested walks into an array nested in
 * an array of objects instead of refusing it.
 */

/** A UTF-16 surrogate not paired with its other half: JSON can carry one (`"\ud800"`), UTF-8 cannot. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Control characters (C0, DEL and C1) other than TAB, LF and CR, which multi-line text may hold. */
const STRAY_CONTROL = /[^\P{Cc}\t\n\r]/u;
/**
 * What a single-line field refuses on top: every control character, the Unicode line separators and
 * the bidirectional embedding, override and isolate controls (they make a name in an email or a CSV
 * read as something else).
 */
const LINE_BREAK_OR_CONTROL = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
/** Secrets are never stored as text (only hashed), and any character a password manager produces is the user's. */
const SECRET_KEY = /password/i;

/** How deep a request input may nest objects and arrays. */
const MAX_DEPTH = 32;

export interface InputFault {
  field: string;
  message: string;
}

function faultOf(text: string, field: string): InputFault | undefined {
  if (LONE_SURROGATE.test(text))
    return { field, message: `${field} is not well-formed Unicode (it holds a lone UTF-16 surrogate)` };
  if (text.includes('\u0000'))
    return { field, message: `${field} must not contain NUL (\\u0000) characters` };
  if (STRAY_CONTROL.test(text)) return { field, message: `${field} must not contain control characters` };
  return undefined;
}

/** Keys are shown in a detail without the characters that made them unreadable. */
function printable(key: string): string {
  return key.replace(/[\p{Cs}\p{Cc}]/gu, '');
}

/**
 * The first string or key of a request input that no field may hold: a lone surrogate, NUL or a
 * control character other than TAB/LF/CR. `path` names the input (a path parameter's name) so the
 * detail reads like a validation error on that field.
 */
export function inputFaultAt(value: unknown, path = '', depth = 0): InputFault | undefined {
  if (typeof value === 'string') return faultOf(value, path || 'value');
  if (value === null || typeof value !== 'object') return undefined;
  // No DTO nests this deep; past it, class-transformer would recurse until the stack overflows (a 500).
  if (depth >= MAX_DEPTH) return { field: path || 'body', message: `${path || 'body'} is nested too deeply` };
  for (const [key, v] of Object.entries(value)) {
    const field = path ? `${path}.${printable(key)}` : printable(key) || 'key';
    const bad = faultOf(key, field);
    if (bad) return { field, message: `${field}: the field name ${bad.message.slice(field.length + 1)}` };
    if (SECRET_KEY.test(key) && typeof v === 'string') continue;
    const found = inputFaultAt(v, field, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Free text that must say something: not empty and not only spaces, tabs or line breaks. */
export function NotBlank(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'notBlank',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && /\S/u.test(v),
        defaultMessage: (args) => `${args?.property ?? 'value'} must not be empty or only whitespace`,
      },
    },
    options,
  );
}

export const SINGLE_LINE = 'singleLine';
export const MULTI_LINE = 'multiLine';
export const OBJECT_ITEMS = 'objectItems';

/**
 * Names, titles, subjects, references, search terms: one line of text. CR, LF, TAB, any other
 * control character, U+2028/U+2029 and bidi overrides → 400 (a CR/LF in a name would split an email header or a
 * CSV row). Every string field of a DTO says either this or MultiLine (a spec checks).
 */
export function SingleLine(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: SINGLE_LINE,
      validator: {
        validate: (v: unknown) => typeof v !== 'string' || !LINE_BREAK_OR_CONTROL.test(v),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be a single line of text, without line breaks, tabs or control characters`,
      },
    },
    options,
  );
}

/** Free text (descriptions, reviews, notes, reasons): line breaks and tabs allowed, other controls not. */
export function MultiLine(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: MULTI_LINE,
      validator: {
        validate: (v: unknown) => typeof v !== 'string' || !STRAY_CONTROL.test(v),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must not contain control characters other than line breaks and tabs`,
      },
    },
    options,
  );
}

function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * An array of objects of `type`: the array itself, each item an object (an array, a string or null
 * in its place → 400 on `field.<index>`), then each item's own rules. Use it for every array of
 * objects: ValidateNested alone accepts `[[{…}]]` and `[[]]`.
 */
export function NestedObjects(type: () => new () => object): PropertyDecorator {
  return applyDecorators(
    IsArray(),
    ValidateBy({
      name: OBJECT_ITEMS,
      validator: {
        validate: (v: unknown) => !Array.isArray(v) || v.every(isPlainObject),
        // The pipe reports this one per item, with the item's index (see objectItemFaults).
        defaultMessage: (args) => `each item of ${args?.property ?? 'value'} must be an object`,
      },
    }),
    ValidateNested({ each: true }),
    Type(type),
  );
}

/** One nested object of `type` (an array in its place → 400, where ValidateNested alone would walk it). */
export function NestedObject(type: () => new () => object): PropertyDecorator {
  return applyDecorators(IsObject(), ValidateNested(), Type(type));
}

/** The items of an array that are not objects, as `field.<index>` details. */
export function objectItemFaults(field: string, value: unknown): InputFault[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, i) =>
    isPlainObject(item)
      ? []
      : [
          {
            field: `${field}.${i}`,
            message: `${field}.${i} must be an object, not ${Array.isArray(item) ? 'an array' : item === null ? 'null' : `a ${typeof item}`}`,
          },
        ],
  );
}
