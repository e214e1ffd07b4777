import session from 'express-session';
import type { RequestHandler } from 'express';
import pg from 'pg';
import type { AppDeps } from '../deps.js';
import { PgSessionStore } from './session-store.js';

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

/**
 * Sessions in PostgreSQL (PgSessionStore: the session and its user in one statement), with a small pool of
 * their own (with an error listener: an idle client's error must not end the process).
 */
export function createSessionMiddleware(deps: AppDeps): {
  middleware: RequestHandler;
  pool: pg.Pool;
  close(): Promise<void>;
} {
  const pool = new pg.Pool(deps.db.poolOptions(deps.config.sessionPoolMax));
  pool.on('error', (err) => deps.logger.error({ err }, 'session pool error'));
  const store = new PgSessionStore(pool, {
    prepared: deps.db.preparedStatements,
    pruneIntervalMs: deps.config.env === 'test' ? false : 15 * 60 * 1000,
    onError: (err, message) => deps.logger.error({ err }, message),
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
  return {
    middleware,
    pool,
    async close() {
      store.close();
      await pool.end();
    },
  };
}
