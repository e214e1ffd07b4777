/**
 * 家長密碼重設: a teacher resets the password of a parent of their own class (a school admin: any class of the
 * school). The new one-time password is shown once; the parent must change it at the next sign-in.
 */
import type { Request, Response } from 'express';
import { classQuery, parseListQuery } from './list-kit.js';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { parentAccountsOf, resetParentPassword, resettableParent } from '../domain/accounts/parent-passwords.js';
import { actorOf } from '../middleware/actor.js';
import { NotFoundError } from '../http-errors.js';
import { csrfField, optionalId, paramId } from '../validation.js';

/** GET /account/parent-passwords?classId= */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { knex } = depsOf(req).db;
  // A bad query: the list kit's answer, 400 with its message and no rows.
  const q = parseListQuery(classQuery, req);
  if (!q.ok) {
    const { classes } = await parentAccountsOf(knex, user, undefined);
    const page = { title: '家長密碼重設', classes, classId: undefined, rows: [], shown: undefined };
    res.status(400).render('account/parent-passwords', { ...page, queryError: q.message });
    return;
  }
  const { classes, classId, rows } = await parentAccountsOf(knex, user, q.value.classId);
  let shown: { accountId: number; password: string; login: string; name: string } | undefined;
  const once = req.session.shownOnce;
  if (once) {
    delete req.session.shownOnce;
    const row = rows.find((r) => r.account_id === once.accountId);
    if (row) shown = { accountId: once.accountId, password: once.password, login: row.login, name: row.display_name };
  }
  res.render('account/parent-passwords', {
    title: '家長密碼重設',
    classes,
    classId,
    rows,
    shown,
    queryError: undefined,
  });
}

/** GET /account/parent-passwords/:accountId/reset — the confirmation page (works without JavaScript). */
export async function confirm(req: Request, res: Response): Promise<void> {
  const target = await resettableParent(depsOf(req).db.knex, userOf(req), paramId(req, 'accountId'));
  res.render('account/parent-password-confirm', { title: '重設家長密碼', target });
}

const ResetForm = z.strictObject({ ...csrfField, classId: optionalId, confirmed: z.literal('yes').optional() });

/** POST /account/parent-passwords/:accountId/reset */
export async function reset(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const deps = depsOf(req);
  const { knex } = deps.db;
  const accountId = paramId(req, 'accountId');
  const form = ResetForm.safeParse(req.body);
  if (!form.success) throw new NotFoundError();
  const { password } = await resetParentPassword(knex, actorOf(req), user, accountId, deps.clock.now());
  req.log.info({ event: 'password.reset', accountId }, 'parent password reset');
  req.session.shownOnce = { accountId, password };
  const back = form.data.classId !== undefined ? `?classId=${form.data.classId}` : '';
  res.redirect(303, `/account/parent-passwords${back}`);
}
