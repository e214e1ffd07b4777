import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { RequestHandler } from 'express';
import pg from 'pg';
import type { AppDeps } from '../deps.js';

declare module 'express-session' {
  interface SessionData {
    accountId: number;
    /** Parent accounts this session may see the children of (Taipei Card sign-in may link several). */
    accountIds: number[];
    identityId: number;
    /** The parent's selected child. */
    studentId: number;
    signedInAt: number;
    lastSeenAt: number;
    captcha: { text: string; expiresAt: number };
    flash: { kind: 'success' | 'error'; text: string };
    oidc: { state: string; nonce: string; codeVerifier: string; startedAt: number; next?: string };
    /** A Taipei Card identity waiting to be linked by a student-number sign-in. */
    pendingIdentityId: number;
    /** A one-time password shown once to the teacher who reset it. */
    shownOnce: { accountId: number; password: string };
  }
}

export const SESSION_COOKIE = 'sid';
export const IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/**
 * How finely the idle timeout is measured: `lastSeenAt` moves (and the session row and cookie are rewritten)
 * at most once a minute, so the idle timeout ends a session 29–30 minutes after its last request.
 */
export const SEEN_RESOLUTION_MS = 60 * 1000;

/** Sessions in PostgreSQL, with a small pool of their own (with the error listener the store does not add). */
export function createSessionMiddleware(deps: AppDeps): { middleware: RequestHandler; pool: pg.Pool } {
  const pool = new pg.Pool(deps.db.poolOptions(deps.config.sessionPoolMax));
  pool.on('error', (err) => deps.logger.error({ err }, 'session pool error'));
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool,
    tableName: 'session',
    createTableIfMissing: false,
    pruneSessionInterval: deps.config.env === 'test' ? false : 15 * 60,
    errorLog: (...args: unknown[]) => deps.logger.error({ args }, 'session store error'),
    // No UPDATE of `expire` on requests that changed nothing: the row (and its expiry) is rewritten when the
    // session changes, which loadUser makes happen once a minute of activity (SEEN_RESOLUTION_MS).
    disableTouch: true,
  });
  const middleware = session({
    name: SESSION_COOKIE,
    secret: deps.config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    // The cookie's expiry is renewed with the row, when the session changes (not on every response).
    rolling: false,
    proxy: deps.config.trustProxy > 0,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.config.isProduction,
      maxAge: IDLE_TIMEOUT_MS,
      path: '/',
    },
  });
  return { middleware, pool };
}
