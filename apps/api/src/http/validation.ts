import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorDetail, inputFaultAt, OBJECT_ITEMS, objectItemFaults } from '@trektribe/common';
import { ValidationFailed } from './errors.filter';

function flatten(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).flatMap(([name, message]) => {
      // An array of objects with a non-object item: one detail per bad item, on `field.<index>`.
      if (name === OBJECT_ITEMS) return objectItemFaults(field, e.value);
      return [
        { field, message: name === 'whitelistValidation' ? `${field} is not an allowed field` : message },
      ];
    });
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      // Every string and key of a body, query or path, before the DTO's own rules: a lone surrogate,
      // NUL or a stray control character is a 400 naming the field, never a 500 from PostgreSQL.
      const bad = inputFaultAt(value, metadata.type === 'param' ? (metadata.data ?? '') : '');
      if (bad) throw new ValidationFailed([bad]);
    }
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
    // Values stay on the errors for flatten() (per-item details); no detail ever echoes one back.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new ValidationFailed(flatten(errors)),
  });
}
