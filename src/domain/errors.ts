/**
 * The domain's refusals, in its own terms. The web layer maps each kind to an HTTP status in one place
 * (`statusOf` in src/http-errors.ts, used by the error middleware and the controllers that render a form again).
 */
/** `rate_limited`: too many attempts (a locked sign-in). */
export type RefusalKind = 'not_found' | 'forbidden' | 'conflict' | 'invalid' | 'rate_limited';

export class DomainError extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** "Not yours" and "does not exist" are the same answer. */
export class NotFoundError extends DomainError {
  constructor(message = '找不到您要的資料') {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}
