/**
 * Login throttling in PostgreSQL (rate-limiter-flexible), shared by every app process on the same database:
 *  - account, from any address: consecutive failures; the 5th locks the account for 15 minutes (a success
 *    deletes the counter) — the rule and its constants are src/domain/accounts/lockout.ts;
 *  - account across IPs: at most 100 failures an hour;
 *  - IP: at most 100 failures an hour.
 * `check()` before the password is compared, `fail()` after a failure, `succeed()` after a success.
 * Each limiter has an in-memory insurance limiter, so a database blip neither opens the door nor answers 500.
 */
import type { Request } from 'express';
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../deps.js';
import {
  failureDelayMs,
  lockMessage,
  ACCOUNT_LOCK_PREFIX,
  FAILURE_WINDOW_S,
  LOCK_AFTER_FAILURES,
  LOCK_MINUTES,
  type LoginThrottle,
  type ThrottleKeys,
  type ThrottleVerdict,
} from '../domain/accounts/lockout.js';

// The throttle's contract and words are the sign-in rule's (src/domain/accounts/lockout.ts); this is its store.
export { failureDelayMs, lockMessage, type LoginThrottle, type ThrottleKeys, type ThrottleVerdict };

const LOCK_S = LOCK_MINUTES * 60;
export const ACCOUNT_POINTS = 100;
export const IP_POINTS = 100;
export const HOUR_S = 60 * 60;

const minutesOf = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

export function createLoginThrottle(deps: AppDeps): LoginThrottle {
  const pool = new pg.Pool(deps.db.poolOptions(2));
  pool.on('error', (err) => deps.logger.error({ err }, 'throttle pool error'));
  // The library names its prepared statements; unnamed queries work the same on every server, including the
  // embedded one, where every connection shares one backend (a named statement would collide between pools).
  // A store error is logged here, then the in-memory insurance limiter answers.
  const storeClient = {
    query: (q: { text: string; values?: unknown[] }) =>
      pool.query({ text: q.text, values: q.values }).catch((err: unknown) => {
        deps.logger.warn({ err }, 'throttle store error: using the in-memory limiter');
        throw err;
      }),
  };
  const make = (keyPrefix: string, points: number, duration: number) =>
    new RateLimiterPostgres({
      storeClient,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      clearExpiredByTimeout: deps.config.env !== 'test',
      keyPrefix,
      points,
      duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${keyPrefix}_mem`, points, duration }),
    });
  const consecutive = make(ACCOUNT_LOCK_PREFIX, LOCK_AFTER_FAILURES, FAILURE_WINDOW_S);
  const account = make('login_fail_account', ACCOUNT_POINTS, HOUR_S);
  const ip = make('login_fail_ip', IP_POINTS, HOUR_S);

  const over = (res: RateLimiterRes | null, points: number) => res !== null && res.consumedPoints >= points;

  async function check(k: ThrottleKeys): Promise<ThrottleVerdict> {
    // One after another: the pool is small, and each answer stands on its own.
    const pair = await consecutive.get(k.account);
    const acc = await account.get(k.account);
    const addr = await ip.get(k.ip);
    if (pair && over(pair, LOCK_AFTER_FAILURES))
      return { locked: true, scope: 'account', minutes: minutesOf(pair.msBeforeNext) };
    if (acc && over(acc, ACCOUNT_POINTS))
      return { locked: true, scope: 'account', minutes: minutesOf(acc.msBeforeNext) };
    if (addr && over(addr, IP_POINTS)) return { locked: true, scope: 'ip', minutes: minutesOf(addr.msBeforeNext) };
    return { locked: false };
  }

  /** consume() rejects with a RateLimiterRes when over the limit: that is an answer, not an error. */
  const consume = async (limiter: RateLimiterPostgres, key: string): Promise<RateLimiterRes> => {
    try {
      return await limiter.consume(key);
    } catch (e) {
      if (e instanceof RateLimiterRes) return e;
      throw e;
    }
  };

  async function fail(k: ThrottleKeys): Promise<ThrottleVerdict> {
    const pair = await consume(consecutive, k.account);
    const acc = await consume(account, k.account);
    const addr = await consume(ip, k.ip);
    if (pair.consumedPoints >= LOCK_AFTER_FAILURES) {
      await consecutive.block(k.account, LOCK_S);
      return { locked: true, scope: 'account', minutes: LOCK_S / 60 };
    }
    if (acc.consumedPoints >= ACCOUNT_POINTS)
      return { locked: true, scope: 'account', minutes: minutesOf(acc.msBeforeNext) };
    if (addr.consumedPoints >= IP_POINTS) return { locked: true, scope: 'ip', minutes: minutesOf(addr.msBeforeNext) };
    return { locked: false, failures: pair.consumedPoints };
  }

  async function succeed(k: ThrottleKeys): Promise<void> {
    await consecutive.delete(k.account);
  }

  return { check, fail, succeed, close: () => pool.end() };
}

/** The app's throttle (made once in createApp). */
export const throttleOf = (req: Request): LoginThrottle => req.app.locals.loginThrottle as LoginThrottle;
