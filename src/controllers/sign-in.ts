import type { Request } from 'express';
import { csrfToken } from '../middleware/security.js';

/**
 * Start a signed-in session. Both ways of signing in (student number or staff account, and Taipei Card) go
 * through here: the session id rotates (the anonymous session and its CSRF token die), then the new session
 * is saved before the redirect.
 */
export async function establishSession(
  req: Request,
  s: { accountId: number; accountIds?: number[]; identityId?: number; now: number },
): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  req.session.accountId = s.accountId;
  if (s.accountIds) req.session.accountIds = s.accountIds;
  if (s.identityId !== undefined) req.session.identityId = s.identityId;
  req.session.signedInAt = s.now;
  req.session.lastSeenAt = s.now;
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

export async function destroySession(req: Request): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
}

/** A new session id for the same signed-in session (after a password change): the old id stops working. */
export async function rotateSession(req: Request): Promise<void> {
  const keep = {
    accountId: req.session.accountId,
    accountIds: req.session.accountIds,
    identityId: req.session.identityId,
    studentId: req.session.studentId,
    signedInAt: req.session.signedInAt,
    lastSeenAt: req.session.lastSeenAt,
  };
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  for (const [k, v] of Object.entries(keep)) {
    if (v !== undefined) (req.session as unknown as Record<string, unknown>)[k] = v;
  }
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

/**
 * Store the anonymous session that a sign-in form's CSRF token lives in before the form is sent: saved after the
 * page (express-session's default), a failed write — the database out — still sent a form whose token was never
 * stored, and the sign-in posted from it was refused once the database was back. Now the visitor gets the 503
 * page instead, and the session is written once either way (express-session sees it unchanged afterwards).
 */
export async function storeFormSession(req: Request): Promise<void> {
  csrfToken(req);
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}
