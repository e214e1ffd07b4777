/**
 * 家長密碼重設: a teacher resets the password of a parent of their own class (a school admin: any class of the
 * school), scoped in the SQL: another class's or school's parent is "not found". The reset itself is
 * password-reset.ts's (the same as the `password:reset` script's).
 */
import type { Knex } from 'knex';
import type { CurrentUser } from './current-user.js';
import type { Actor } from '../audit.js';
import { NotFoundError } from '../errors.js';
import { myClasses, visibleStudentIds } from '../scope.js';
import { resetAccountPassword } from './password-reset.js';

export interface ParentAccountRow {
  seat_number: number;
  student_name: string;
  student_number: string;
  account_id: number;
  login: string;
  display_name: string;
  must_change_password: boolean;
  last_login_at: Date | null;
}

/** The parent accounts of one of the user's classes (the first when none is asked for; another's: 404). */
export async function parentAccountsOf(
  knex: Knex,
  user: CurrentUser,
  asked: number | undefined,
): Promise<{ classes: Awaited<ReturnType<typeof myClasses>>; classId: number | undefined; rows: ParentAccountRow[] }> {
  const classes = await myClasses(knex, user);
  if (asked !== undefined && !classes.some((c) => c.id === asked)) throw new NotFoundError();
  const classId = asked ?? classes[0]?.id;
  const rows: ParentAccountRow[] =
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
  return { classes, classId, rows };
}

export interface ResettableParent {
  id: number;
  login: string;
  school_id: number;
  display_name: string;
  student_name: string;
  class_id: number;
}

/** The parent account, if it belongs to a guardian of a student this user may see (scoped in the SQL); else 404. */
export async function resettableParent(knex: Knex, user: CurrentUser, accountId: number): Promise<ResettableParent> {
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
  return target as ResettableParent;
}

/** Reset a parent's password: a new one-time password (the caller shows it once). */
export async function resetParentPassword(
  knex: Knex,
  actor: Actor,
  user: CurrentUser,
  accountId: number,
  now: Date,
): Promise<{ accountId: number; password: string }> {
  const target = await resettableParent(knex, user, accountId);
  const { password } = await resetAccountPassword(
    knex,
    actor,
    { id: target.id, role: 'parent', schoolId: target.school_id, login: target.login },
    now,
  );
  return { accountId: target.id, password };
}
