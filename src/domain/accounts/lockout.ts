/**
 * The account lock, one rule: after LOCK_AFTER_FAILURES consecutive failed sign-ins of one account — from any
 * addresses — the account is locked for LOCK_MINUTES, checked before the password is compared. It is counted
 * per account key (`role:schoolId:login`), whether the account exists or not, so a lock tells nothing about
 * existence; for a real account the lock is also written to `accounts.locked_until` and read from there.
 * A success resets the count; the lock ends by time (audited at the next sign-in) or by a password reset
 * (audited there). The counters live in `rate_limits` (src/middleware/throttle.ts) under ACCOUNT_LOCK_PREFIX.
 */
import type { Knex } from 'knex';

export const LOCK_AFTER_FAILURES = 5;
export const LOCK_MINUTES = 15;
/** Consecutive failures older than this no longer count towards a lock. */
export const FAILURE_WINDOW_S = 60 * 60;
export const ACCOUNT_LOCK_PREFIX = 'login_fail_account_consecutive';

/** The throttle's key of an account: the same whether the account exists or not. */
export function accountKey(role: string, schoolId: number, login: string): string {
  return `${role}:${schoolId}:${login.toLowerCase()}`;
}

/** When a real account's recorded lock ends (undefined: no lock in force at `now`). */
export async function lockedUntil(
  knex: Knex,
  a: { role: string; schoolId: number; login: string },
  now: Date,
): Promise<Date | undefined> {
  const row = await knex('accounts')
    .where({ role: a.role, school_id: a.schoolId, login: a.login })
    .where('locked_until', '>', now)
    .first('locked_until');
  return row ? new Date(row.locked_until) : undefined;
}

/**
 * End an account's lock and its count of failures (a password reset). Says whether a lock was in force, so the
 * caller can audit the unlock; runs in the caller's transaction.
 */
export async function clearAccountLock(
  knex: Knex,
  account: { id: number; role: string; schoolId: number; login: string },
  now: Date,
): Promise<{ wasLocked: boolean }> {
  const [before] = (await knex('accounts').where({ id: account.id }).select('locked_until')) as {
    locked_until: Date | null;
  }[];
  await knex('accounts').where({ id: account.id }).update({ failed_logins: 0, locked_until: null });
  const deleted = await knex('rate_limits')
    .where('key', `${ACCOUNT_LOCK_PREFIX}:${accountKey(account.role, account.schoolId, account.login)}`)
    .del();
  const wasLocked = (before?.locked_until != null && new Date(before.locked_until) > now) || deleted > 0;
  return { wasLocked };
}

/**
 * A real account's recorded lock that has run out is cleared here, once (one conditional UPDATE: of parallel
 * attempts one clears it): returns the account id so the caller audits `login.unlocked` (reason: expired).
 */
export async function expireAccountLock(
  knex: Knex,
  a: { role: string; schoolId: number; login: string },
  now: Date,
): Promise<number | undefined> {
  const [row] = (await knex('accounts')
    .where({ role: a.role, school_id: a.schoolId, login: a.login })
    .where('locked_until', '<=', now)
    .update({ locked_until: null, failed_logins: 0 })
    .returning('id')) as { id: number }[];
  return row?.id;
}

/**
 * The counters of failed sign-ins (src/middleware/throttle.ts keeps them in PostgreSQL, shared by every process):
 * `check()` before the password is compared, `fail()` after a failure, `succeed()` after a success.
 */
export interface ThrottleKeys {
  /** `role:schoolId:login`, whether the account exists or not (a lock must not tell). */
  account: string;
  ip: string;
}

export type ThrottleVerdict =
  | { locked: false; failures?: number }
  | { locked: true; scope: 'account' | 'ip'; minutes: number };

/**
 * How long to hold the answer to a failed sign-in: it doubles with each consecutive failure of the same
 * account, from whatever address (100 ms, 200 ms, 400 ms, …, at most 2 s), so guessing slows down well before
 * the lock, while a person who mistypes once hardly notices.
 */
export function failureDelayMs(consecutiveFailures: number): number {
  if (!Number.isInteger(consecutiveFailures) || consecutiveFailures < 1) return 0;
  return Math.min(100 * 2 ** (consecutiveFailures - 1), 2000);
}

export interface LoginThrottle {
  check(keys: ThrottleKeys): Promise<ThrottleVerdict>;
  /** Count a failure; says whether this failure locked the account (for the audit log). */
  fail(keys: ThrottleKeys): Promise<ThrottleVerdict>;
  succeed(keys: ThrottleKeys): Promise<void>;
  close(): Promise<void>;
}

/** The zh-TW sentence for a lock. */
export function lockMessage(v: Extract<ThrottleVerdict, { locked: true }>): string {
  return v.scope === 'ip'
    ? `此網路位址登入失敗次數過多，請於 ${v.minutes} 分鐘後再試。`
    : `登入失敗次數過多，帳號已暫時鎖定，請於 ${v.minutes} 分鐘後再試。`;
}
