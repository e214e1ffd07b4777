/**
 * Signed-in sessions for the benchmark's accounts, written straight into the session table in the format of
 * connect-pg-simple (the same JSON express-session saves at sign-in), with the cookie signed as
 * express-session signs it. The real login form needs a captcha that production refuses to fix, and the
 * benchmark adds no test-only path to production code.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { IDLE_TIMEOUT_MS, SESSION_COOKIE } from '../../src/middleware/session.js';
import { SESSION_SECRET } from './processes.js';

export async function createSession(knex: Knex, accountId: number, secret = SESSION_SECRET): Promise<string> {
  const sid = randomBytes(24).toString('base64url');
  const now = Date.now();
  const sess = {
    cookie: {
      originalMaxAge: IDLE_TIMEOUT_MS,
      expires: new Date(now + IDLE_TIMEOUT_MS).toISOString(),
      secure: true,
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
    },
    accountId,
    signedInAt: now,
    lastSeenAt: now,
  };
  await knex('session').insert({ sid, sess: JSON.stringify(sess), expire: new Date(now + IDLE_TIMEOUT_MS) });
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return `${SESSION_COOKIE}=${encodeURIComponent(`s:${sid}.${signature}`)}`;
}
