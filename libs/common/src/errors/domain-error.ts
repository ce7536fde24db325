/**
 * The one error type services throw. The code is the contract (API.md); the HTTP status is looked up
 * from ERROR_STATUS by the errors filter, so services never import HTTP exceptions.
 */
export const ERROR_STATUS = {
  // 400
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  INVALID_TOKEN: 400,
  INVALID_SIGNATURE: 400,
  // 401
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_REFRESH_TOKEN: 401,
  // 403
  FORBIDDEN: 403,
  ACCOUNT_DISABLED: 403,
  SUBSCRIPTION_INACTIVE: 403,
  // 404
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  // 409
  CONFLICT: 409,
  EMAIL_TAKEN: 409,
  TRIP_FULL: 409,
  INVALID_STATE: 409,
  CAPACITY_BELOW_BOOKED: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  ALREADY_REVIEWED: 409,
  ALREADY_WAITLISTED: 409,
  DUPLICATE_PROOF: 409,
  // 413, 415
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // 422
  BUSINESS_RULE: 422,
  CANCELLATION_WINDOW_CLOSED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  HOLD_LIMIT_REACHED: 422,
  TRIP_NOT_BOOKABLE: 422,
  REVIEW_NOT_ALLOWED: 422,
  AMOUNT_MISMATCH: 422,
  // 429
  RATE_LIMITED: 429,
  TOO_MANY_LOGIN_ATTEMPTS: 429,
  // 500, 502, 503
  INTERNAL_ERROR: 500,
  GATEWAY_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  PAYMENTS_NOT_CONFIGURED: 503,
  GATEWAY_UNAVAILABLE: 503,
} as const;

/**
 * Codes a lib adds for its own situations, in its `<lib>.errors.ts`: the lib augments this interface
 * (`declare module '@trektribe/common'`) and registers each code's HTTP status with
 * registerErrorCodes when the file loads. The shared codes above stay the contract's.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface LibErrorCodes {}

export type ErrorCode = keyof typeof ERROR_STATUS | keyof LibErrorCodes;

const LIB_ERROR_STATUS = new Map<string, number>();

/** Registers a lib's codes and their HTTP statuses (4xx); returns them, for the lib's own typing. */
export function registerErrorCodes<T extends Record<string, number>>(codes: T): T {
  for (const [code, status] of Object.entries(codes)) {
    if (code in ERROR_STATUS || (LIB_ERROR_STATUS.has(code) && LIB_ERROR_STATUS.get(code) !== status))
      throw new Error(`error code ${code} is defined twice`);
    LIB_ERROR_STATUS.set(code, status);
  }
  return codes;
}

/** Every code with its status, shared and registered (the OpenAPI document lists them). */
export function allErrorCodes(): Record<string, number> {
  return { ...ERROR_STATUS, ...Object.fromEntries(LIB_ERROR_STATUS) };
}

export interface ErrorDetail {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers, e.g. Retry-After on rate limits. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return (ERROR_STATUS as Record<string, number>)[this.code] ?? LIB_ERROR_STATUS.get(this.code) ?? 500;
  }

  /** Absent and not-yours look the same: never reveal that another user's resource exists. */
  static notFound(what: string): DomainError {
    return new DomainError('NOT_FOUND', `${what} not found`);
  }
}
