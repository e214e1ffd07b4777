/** 我的帳號: password change, linked children, Taipei Card links, the parent's child switcher. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { hashPassword, newPasswordProblem, verifyPassword } from '../domain/accounts/passwords.js';
import { endSessionsOf } from '../domain/accounts/sessions.js';
import { identitiesOf, oidcSettings, unlinkIdentity } from '../domain/accounts/taipei-card.js';
import { audit } from '../domain/audit.js';
import { actorOf } from '../middleware/actor.js';
import { NotFoundError } from '../http-errors.js';
import { safeNextPath } from '../middleware/auth.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, id } from '../validation.js';
import { rotateSession } from './sign-in.js';

/** GET /account */
export async function show(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { knex } = depsOf(req).db;
  const account = await knex('accounts').where({ id: user.accountId }).first('password_changed_at', 'last_login_at');
  const cards = user.role === 'parent' ? await identitiesOf(knex, user.accountId) : [];
  res.render('account/show', {
    title: '我的帳號',
    passwordChangedAt: account?.password_changed_at ?? null,
    cards,
    cardAvailable: user.role === 'parent' && oidcSettings(depsOf(req).config) !== undefined,
  });
}

/** GET /account/password */
export function editPassword(req: Request, res: Response): void {
  renderPassword(req, res, 200, {});
}

function renderPassword(req: Request, res: Response, status: number, errors: Record<string, string>) {
  res
    .status(status)
    .render('account/password', { title: '變更密碼', errors, mustChange: userOf(req).mustChangePassword });
}

// Passwords are taken exactly as typed: never trimmed or normalised. Lengths are checked by the rules below.
const PasswordForm = z.strictObject({
  ...csrfField,
  currentPassword: z.string({ error: '請輸入目前的密碼' }).max(1000, '密碼過長'),
  newPassword: z.string({ error: '請輸入新密碼' }).max(1000, '新密碼過長'),
  confirmPassword: z.string({ error: '請再輸入一次新密碼' }).max(1000, '新密碼過長'),
});

/** POST /account/password */
export async function updatePassword(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const deps = depsOf(req);
  const { knex } = deps.db;
  const parsed = PasswordForm.safeParse(req.body);
  if (!parsed.success) return renderPassword(req, res, 422, fieldErrors(parsed.error));
  const f = parsed.data;
  const errors: Record<string, string> = {};
  if (!f.currentPassword) errors.currentPassword = '請輸入目前的密碼';
  const problem = newPasswordProblem(f.newPassword, f.currentPassword || undefined);
  if (!f.newPassword) errors.newPassword = '請輸入新密碼';
  else if (problem) errors.newPassword = problem;
  if (!errors.newPassword && f.confirmPassword !== f.newPassword) errors.confirmPassword = '兩次輸入的新密碼不相同';
  if (Object.keys(errors).length > 0) return renderPassword(req, res, 422, errors);

  const row = await knex('accounts').where({ id: user.accountId }).first('password_hash');
  if (!(await verifyPassword(f.currentPassword, row?.password_hash))) {
    await audit(knex, actorOf(req), {
      action: 'password.change_failed',
      targetType: 'account',
      targetId: user.accountId,
    });
    return renderPassword(req, res, 422, { currentPassword: '目前的密碼不正確' });
  }
  const hash = await hashPassword(f.newPassword);
  const now = deps.clock.now();
  await knex('accounts')
    .where({ id: user.accountId })
    .update({ password_hash: hash, must_change_password: false, password_changed_at: now, updated_at: now });
  // The current session continues under a new id; every other session of the account ends.
  await rotateSession(req);
  const ended = await endSessionsOf(knex, user.accountId, req.sessionID);
  await audit(knex, actorOf(req), {
    action: 'password.changed',
    targetType: 'account',
    targetId: user.accountId,
    details: { otherSessionsEnded: ended },
  });
  req.log.info({ event: 'password.changed', accountId: user.accountId }, 'password changed');
  setFlash(req, 'success', '密碼已變更。其他裝置上的登入已登出。');
  res.redirect(303, '/account');
}

const SwitchForm = z.strictObject({ ...csrfField, studentId: id, next: z.string().max(2000).optional() });

/** POST /account/current-student — the parent's child switcher in the layout. */
export function switchStudent(req: Request, res: Response): void {
  const user = userOf(req);
  const parsed = SwitchForm.safeParse(req.body);
  if (user.role !== 'parent' || !parsed.success) throw new NotFoundError();
  const child = user.children.find((c) => c.id === parsed.data.studentId);
  if (!child) throw new NotFoundError();
  req.session.studentId = child.id;
  res.redirect(303, safeNextPath(parsed.data.next));
}

const UnlinkForm = z.strictObject({ ...csrfField, identityId: id });

/** POST /account/taipei-card/unlink */
export async function unlinkCard(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { knex } = depsOf(req).db;
  const parsed = UnlinkForm.safeParse(req.body);
  if (user.role !== 'parent' || !parsed.success) throw new NotFoundError();
  const removed = await unlinkIdentity(knex, parsed.data.identityId, user.accountId);
  if (!removed) throw new NotFoundError();
  await audit(knex, actorOf(req), {
    action: 'taipei_card.unlinked',
    targetType: 'taipei_card_identity',
    targetId: parsed.data.identityId,
  });
  setFlash(req, 'success', '已取消臺北卡連結。');
  res.redirect(303, '/account');
}
