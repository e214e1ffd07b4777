import type { Request } from 'express';

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
