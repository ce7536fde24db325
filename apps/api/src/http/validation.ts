import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import type { ErrorDetail } from '@trektribe/common';
import { ValidationFailed } from './errors.filter';

function flatten(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      field,
      message: e.constraints?.whitelistValidation === message ? `${field} is not an allowed field` : message,
    }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** The path of the first string holding a NUL character, which PostgreSQL refuses in text (a 500 otherwise). */
export function nulPath(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'value' : undefined;
  if (depth > 20 || value === null || typeof value !== 'object') return undefined;
  for (const [key, v] of Object.entries(value)) {
    if (key.includes('\u0000')) return path ? `${path}.${key.replaceAll('\u0000', '')}` : key.replaceAll('\u0000', '');
    const found = nulPath(v, path ? `${path}.${key}` : key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const bad = metadata.type === 'custom' ? undefined : nulPath(value, metadata.type === 'param' ? (metadata.data ?? '') : '');
    if (bad !== undefined) throw new ValidationFailed([{ field: bad, message: `${bad} must not contain NUL (\\u0000) characters` }]);
    return super.transform(value, metadata);
  }
}

/** Unknown fields are rejected, never silently applied: no mass assignment of role, status, amount. */
export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailed(flatten(errors)),
  });
}
