/** 我的帳號: what the page shows, the password change and the Taipei Card unlink, each audited in its transaction. */
import type { Knex } from 'knex';
import { audit, type Actor } from '../audit.js';
import { DomainError, NotFoundError } from '../errors.js';
import type { CurrentUser } from './current-user.js';
import { hashPassword, newPasswordProblem, verifyPassword } from './passwords.js';
import { endSessionsOf } from './sessions.js';
import { identitiesOf, unlinkIdentity } from './taipei-card.js';

/** When the password last changed, and (for a parent) the Taipei Cards linked to the account. */
export async function accountPage(knex: Knex, user: CurrentUser) {
  const account = await knex('accounts').where({ id: user.accountId }).first('password_changed_at', 'last_login_at');
  const cards = user.role === 'parent' ? await identitiesOf(knex, user.accountId) : [];
  return { passwordChangedAt: (account?.password_changed_at as Date | null | undefined) ?? null, cards };
}

/** A password change refused: each field's message. */
export class PasswordChangeRefused extends DomainError {
  constructor(readonly errors: Record<string, string>) {
    super('invalid', Object.values(errors)[0] ?? '');
    this.name = 'PasswordChangeRefused';
  }
}

/**
 * Change one's own password: the rules for a new one (passwords.ts), the current one checked (a wrong one is
 * audited `password.change_failed`), must-change cleared, and every other session of the account ended
 * (`keepSessionId`: the one in use, which the caller then rotates) — one transaction, audited in it.
 * Passwords are taken exactly as typed.
 */
export async function changePassword(
  knex: Knex,
  actor: Actor,
  user: CurrentUser,
  f: { currentPassword: string; newPassword: string; confirmPassword: string },
  now: Date,
  keepSessionId: string,
): Promise<{ otherSessionsEnded: number }> {
  const errors: Record<string, string> = {};
  if (!f.currentPassword) errors.currentPassword = '請輸入目前的密碼';
  const problem = newPasswordProblem(f.newPassword, f.currentPassword || undefined);
  if (!f.newPassword) errors.newPassword = '請輸入新密碼';
  else if (problem) errors.newPassword = problem;
  if (!errors.newPassword && f.confirmPassword !== f.newPassword) errors.confirmPassword = '兩次輸入的新密碼不相同';
  if (Object.keys(errors).length > 0) throw new PasswordChangeRefused(errors);

  const target = { targetType: 'account', targetId: user.accountId };
  const row = await knex('accounts').where({ id: user.accountId }).first('password_hash');
  if (!(await verifyPassword(f.currentPassword, row?.password_hash))) {
    await audit(knex, actor, { action: 'password.change_failed', ...target });
    throw new PasswordChangeRefused({ currentPassword: '目前的密碼不正確' });
  }
  const hash = await hashPassword(f.newPassword);
  return knex.transaction(async (trx) => {
    await trx('accounts')
      .where({ id: user.accountId })
      .update({ password_hash: hash, must_change_password: false, password_changed_at: now, updated_at: now });
    const ended = await endSessionsOf(trx, user.accountId, keepSessionId);
    await audit(trx, actor, { action: 'password.changed', ...target, details: { otherSessionsEnded: ended } });
    return { otherSessionsEnded: ended };
  });
}

/** A parent takes a Taipei Card off their account (not theirs, or not linked: 404). */
export async function unlinkTaipeiCard(knex: Knex, actor: Actor, user: CurrentUser, identityId: number): Promise<void> {
  if (user.role !== 'parent') throw new NotFoundError();
  await knex.transaction(async (trx) => {
    if (!(await unlinkIdentity(trx, identityId, user.accountId))) throw new NotFoundError();
    await audit(trx, actor, {
      action: 'taipei_card.unlinked',
      targetType: 'taipei_card_identity',
      targetId: identityId,
    });
  });
}
