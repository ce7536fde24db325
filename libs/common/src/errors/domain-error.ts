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

export type ErrorCode = keyof typeof ERROR_STATUS;

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
    return ERROR_STATUS[this.code];
  }

  /** Absent and not-yours look the same: never reveal that another user's resource exists. */
  static notFound(what: string): DomainError {
    return new DomainError('NOT_FOUND', `${what} not found`);
  }
}
