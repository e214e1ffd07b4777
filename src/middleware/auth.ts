import { Router, type NextFunction, type Request, type Response } from 'express';
import { depsOf } from '../deps.js';
import { currentUserOf, loadCurrentUser, type Role } from '../domain/accounts/current-user.js';
import { hasControlChars } from '../domain/text.js';
import { NotFoundError } from '../http-errors.js';
import { ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS, SEEN_RESOLUTION_MS } from './session.js';
import { userReadWithSession } from './session-store.js';

/**
 * Loads the signed-in user from the session on every request, and ends a session that has been idle for 30
 * minutes or alive for 12 hours (measured with the app's clock, so tests can move it). The session store read
 * the user (and the staff's 審核 count) in the same statement as the session (session-store.ts): no round trip
 * here; only a session the store did not read that way (none today) is looked up with loadCurrentUser. Activity
 * is recorded at most once a minute (SEEN_RESOLUTION_MS): a request that changes nothing else leaves the session
 * row alone, so most pages write nothing to the session store.
 */
export async function loadUser(req: Request, res: Response, next: NextFunction): Promise<void> {
  const s = req.session;
  if (!s?.accountId) return next();
  const { clock, db, logger } = depsOf(req);
  const now = clock.now().getTime();
  const expired = now - (s.lastSeenAt ?? 0) > IDLE_TIMEOUT_MS || now - (s.signedInAt ?? 0) > ABSOLUTE_TIMEOUT_MS;
  const keys = { accountId: s.accountId, accountIds: s.accountIds, studentId: s.studentId, identityId: s.identityId };
  const read = userReadWithSession(req);
  let user;
  if (expired) user = undefined;
  else if (read && read.accountId === s.accountId && read.identityId === s.identityId) {
    user = currentUserOf(read.row, keys);
    if (user && user.role !== 'parent') req.reviewCount = read.row?.review_count ?? undefined;
  } else user = await loadCurrentUser(db.knex, keys);
  if (!user) {
    logger.info({ accountId: s.accountId, reason: expired ? 'timeout' : 'account gone' }, 'session ended');
    await new Promise<void>((resolve, reject) => s.regenerate((err) => (err ? reject(err) : resolve())));
    return next();
  }
  if (now - (s.lastSeenAt ?? 0) >= SEEN_RESOLUTION_MS) s.lastSeenAt = now;
  req.user = user;
  res.locals.user = user;
  next();
}

/** Signed-in pages: anonymous users go to the login page (and come back after), and nothing is cached. */
export function requireUser(req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  if (!req.user) {
    const target = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
    return res.redirect(303, `/login${target}`);
  }
  // (the full path: under a router mounted at an area, req.path is relative to it)
  const path = req.baseUrl + req.path;
  if (req.user.mustChangePassword && !path.startsWith('/account/password') && path !== '/logout') {
    return res.redirect(303, '/account/password');
  }
  next();
}

/**
 * The router of a signed-in area: every path under `areas` (e.g. '/sms') requires the user, declared once here
 * rather than route by route. A path outside them (an unknown page) still answers 404.
 */
export function signedInRouter(...areas: [string, ...string[]]): Router {
  const r = Router();
  r.use(areas, requireUser);
  return r;
}

/** Pages only some roles have: for the others they do not exist (404). */
export function requireRole(...roles: Role[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.user || !roles.includes(req.user.role)) return next(new NotFoundError());
    next();
  };
}

/** Only same-site paths: `/x` but never `//host`, `/\host`, a scheme or control characters. */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/';
  if (!/^\/(?![/\\])/.test(value)) return '/';
  if (hasControlChars(value) || value.includes('\\')) return '/';
  if (value.startsWith('/login') || value.startsWith('/logout')) return '/';
  return value;
}
