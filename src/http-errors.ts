/**
 * Errors a handler may throw, and the one mapping of the domain's refusals to HTTP statuses; the error middleware
 * turns each into its zh-TW page.
 */
import type { DomainError, RefusalKind } from './domain/errors.js';

export { DomainError, NotFoundError } from './domain/errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly expose = true,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class BadRequestError extends HttpError {
  constructor(message = '輸入的資料有誤') {
    super(400, message);
  }
}

const STATUS: Record<RefusalKind, number> = {
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  invalid: 422,
  rate_limited: 429,
};

/** The HTTP status of a domain refusal. */
export function statusOf(err: DomainError): number {
  return STATUS[err.kind];
}
