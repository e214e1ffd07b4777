/**
 * 家長密碼重設: a teacher resets the password of a parent of their own class (a school admin: any class of the
 * school). The new one-time password is shown once; the parent must change it at the next sign-in.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import type { CurrentUser } from '../domain/accounts/current-user.js';
import { resetAccountPassword } from '../domain/accounts/password-reset.js';
import { actorOf } from '../middleware/actor.js';
import { myClasses, visibleStudentIds } from '../domain/scope.js';
import { NotFoundError } from '../http-errors.js';
import { csrfField, optionalId, paramId } from '../validation.js';

const ListQuery = z.object({ classId: optionalId }).catch({ classId: undefined });

/** GET /account/parent-passwords?classId= */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { knex } = depsOf(req).db;
  const q = ListQuery.parse({ classId: typeof req.query.classId === 'string' ? req.query.classId : undefined });
  const classes = await myClasses(knex, user);
  if (q.classId !== undefined && !classes.some((c) => c.id === q.classId)) throw new NotFoundError();
  const classId = q.classId ?? classes[0]?.id;
  const rows =
    classId === undefined
      ? []
      : await knex('students as st')
          .join('guardian_students as gs', 'gs.student_id', 'st.id')
          .join('accounts as a', 'a.guardian_id', 'gs.guardian_id')
          .where('st.class_id', classId)
          .whereIn('st.id', visibleStudentIds(knex, user))
          .where('a.role', 'parent')
          .whereNull('a.disabled_at')
          .orderBy([{ column: 'st.seat_number' }, { column: 'a.id' }])
          .select(
            'st.seat_number',
            'st.name as student_name',
            'st.student_number',
            'a.id as account_id',
            'a.login',
            'a.display_name',
            'a.must_change_password',
            'a.last_login_at',
          );
  let shown: { accountId: number; password: string; login: string; name: string } | undefined;
  const once = req.session.shownOnce;
  if (once) {
    delete req.session.shownOnce;
    const row = rows.find((r) => r.account_id === once.accountId);
    if (row) shown = { accountId: once.accountId, password: once.password, login: row.login, name: row.display_name };
  }
  res.render('account/parent-passwords', { title: '家長密碼重設', classes, classId, rows, shown });
}

/** The parent account, if it belongs to a guardian of a student this user may see (scoped in the SQL). */
async function findResettable(knex: Knex, user: CurrentUser, accountId: number) {
  const target = await knex('accounts as a')
    .join('guardian_students as gs', 'gs.guardian_id', 'a.guardian_id')
    .join('students as st', 'st.id', 'gs.student_id')
    .where('a.id', accountId)
    .where('a.role', 'parent')
    .whereNull('a.disabled_at')
    .whereIn('gs.student_id', visibleStudentIds(knex, user))
    .orderBy('st.id')
    .first('a.id', 'a.login', 'a.school_id', 'a.display_name', 'st.name as student_name', 'st.class_id');
  if (!target) throw new NotFoundError();
  return target as {
    id: number;
    login: string;
    school_id: number;
    display_name: string;
    student_name: string;
    class_id: number;
  };
}

/** GET /account/parent-passwords/:accountId/reset — the confirmation page (works without JavaScript). */
export async function confirm(req: Request, res: Response): Promise<void> {
  const target = await findResettable(depsOf(req).db.knex, userOf(req), paramId(req, 'accountId'));
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
  const target = await findResettable(knex, user, accountId);

  const { password } = await resetAccountPassword(
    knex,
    actorOf(req),
    { id: target.id, role: 'parent', schoolId: target.school_id, login: target.login },
    deps.clock.now(),
  );
  req.log.info({ event: 'password.reset', accountId: target.id }, 'parent password reset');
  req.session.shownOnce = { accountId: target.id, password };
  const back = form.data.classId !== undefined ? `?classId=${form.data.classId}` : '';
  res.redirect(303, `/account/parent-passwords${back}`);
}
