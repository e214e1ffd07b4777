/**
 * A password reset, the one way for the class teacher's or office's page and the `password:reset` script: a new
 * one-time password (shown once, by the caller), must-change set, the sign-in lock cleared, every session of the
 * account ended — one transaction, audited in it.
 */
import type { Knex } from 'knex';
import { audit, type Actor } from '../audit.js';
import { clearAccountLock } from './lockout.js';
import { issueOneTimePassword } from './passwords.js';
import { endSessionsOf } from './sessions.js';

export interface ResetTarget {
  id: number;
  role: string;
  schoolId: number;
  login: string;
}

export async function resetAccountPassword(
  knex: Knex,
  actor: Actor,
  target: ResetTarget,
  now: Date,
): Promise<{ password: string; sessionsEnded: number }> {
  const { password, hash } = await issueOneTimePassword();
  const sessionsEnded = await knex.transaction(async (trx) => {
    await trx('accounts')
      .where({ id: target.id })
      .update({ password_hash: hash, must_change_password: true, password_changed_at: now, updated_at: now });
    const { wasLocked } = await clearAccountLock(trx, target, now);
    const who = { login: target.login, role: target.role };
    if (wasLocked)
      await audit(trx, actor, {
        action: 'login.unlocked',
        schoolId: target.schoolId,
        targetType: 'account',
        targetId: target.id,
        details: { ...who, reason: 'password_reset' },
      });
    const ended = await endSessionsOf(trx, target.id);
    await audit(trx, actor, {
      action: 'password.reset',
      schoolId: target.schoolId,
      targetType: 'account',
      targetId: target.id,
      details: { ...who, sessionsEnded: ended },
    });
    return ended;
  });
  return { password, sessionsEnded };
}
