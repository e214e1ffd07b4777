/** 我的帳號: password change, linked children, Taipei Card links, the parent's child switcher. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { accountPage, changePassword, PasswordChangeRefused, unlinkTaipeiCard } from '../domain/accounts/my-account.js';
import { oidcSettings } from '../domain/accounts/taipei-card.js';
import { actorOf } from '../middleware/actor.js';
import { NotFoundError, statusOf } from '../http-errors.js';
import { safeNextPath } from '../middleware/auth.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, id } from '../validation.js';
import { rotateSession } from './sign-in.js';

/** GET /account */
export async function show(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { passwordChangedAt, cards } = await accountPage(depsOf(req).db.knex, user);
  res.render('account/show', {
    title: '我的帳號',
    passwordChangedAt,
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
  try {
    await changePassword(knex, actorOf(req), user, parsed.data, deps.clock.now(), req.sessionID);
  } catch (err) {
    if (!(err instanceof PasswordChangeRefused)) throw err;
    return renderPassword(req, res, statusOf(err), err.errors);
  }
  // The current session continues under a new id; every other session of the account has ended.
  await rotateSession(req);
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
  await unlinkTaipeiCard(knex, actorOf(req), user, parsed.data.identityId);
  setFlash(req, 'success', '已取消臺北卡連結。');
  res.redirect(303, '/account');
}
