/**
 * Authorization in the SQL. Every read or write of a student's records carries one of these in its WHERE
 * clause, so that "not yours" and "does not exist" are the same empty result (and the same 404).
 */
import type { Knex } from 'knex';
import type { CurrentUser } from './accounts/current-user.js';

/** A subquery of the ids of the students this user may see: the parent's children, the teacher's classes, the admin's school. */
export function visibleStudentIds(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  switch (user.role) {
    case 'parent':
      return knex('guardian_students as vgs')
        .join('accounts as va', 'va.guardian_id', 'vgs.guardian_id')
        .whereIn('va.id', user.accountIds)
        .whereNull('va.disabled_at')
        .select('vgs.student_id');
    case 'teacher':
      return knex('students as vs')
        .join('class_teachers as vct', 'vct.class_id', 'vs.class_id')
        .where('vct.account_id', user.accountId)
        .select('vs.id');
    case 'school_admin':
      return knex('students as vs').where('vs.school_id', user.schoolId).select('vs.id');
  }
}

/** A subquery of the ids of the classes this staff member may see (none for a parent). */
export function visibleClassIds(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  switch (user.role) {
    case 'teacher':
      return knex('class_teachers as vct').where('vct.account_id', user.accountId).select('vct.class_id');
    case 'school_admin':
      return knex('classes as vc').where('vc.school_id', user.schoolId).select('vc.id');
    case 'parent':
      return knex('classes as vc').whereRaw('false').select('vc.id');
  }
}

/**
 * The user's scope on a query that reads `classes` itself (`alias`, default `c`): the classes of visibleClassIds,
 * said on the row's own column where the role allows — the office's school — so the planner sees one school's
 * classes (and the rows joined to them) instead of a semi-join it estimates at a few rows.
 */
export function whereClassVisible(knex: Knex, q: Knex.QueryBuilder, user: CurrentUser, alias = 'c'): Knex.QueryBuilder {
  if (user.role === 'school_admin') return q.where(`${alias}.school_id`, user.schoolId);
  return q.whereIn(`${alias}.id`, visibleClassIds(knex, user));
}

/**
 * The schools whose rows this user may see: the staff member's school, the parent's children's schools. Not a
 * scope by itself (always used beside visibleStudentIds): it lets a query on a table that carries school_id
 * (subscriptions, sms_outbox, attendance_days) read one school's rows through its (school_id, …) index.
 */
export function visibleSchoolIds(user: CurrentUser): number[] {
  if (user.role !== 'parent') return [user.schoolId];
  return [...new Set(user.children.map((c) => c.schoolId))];
}

/**
 * The user's scope on a query of subscriptions (`alias`, default `s`): the subscriptions of the students this user
 * may see, read through the (school_id, id) index. For a school office the school is the whole scope:
 * subscriptions.school_id is always the student's school (a trigger fills it, and a student never changes school),
 * so no semi-join on students is needed — the planner then estimates the school's rows from the index's
 * statistics (a semi-join `student_id in (select id from students where school_id = ?)` it guesses at 6 rows, and
 * plans loops over every school's periods for them).
 */
export function whereSubscriptionVisible(
  knex: Knex,
  q: Knex.QueryBuilder,
  user: CurrentUser,
  alias = 's',
): Knex.QueryBuilder {
  q.whereIn(`${alias}.school_id`, visibleSchoolIds(user));
  if (user.role !== 'school_admin') q.whereIn(`${alias}.student_id`, visibleStudentIds(knex, user));
  return q;
}

/**
 * The user's scope on a query that reads `students` itself (`alias`, default `st`): the same students as
 * visibleStudentIds, said on the row's own columns where the role allows — the office's school, the teacher's
 * classes — so the planner sees one school's (or one class's) rows instead of a self-join it cannot estimate.
 */
export function whereStudentVisible(
  knex: Knex,
  q: Knex.QueryBuilder,
  user: CurrentUser,
  alias = 'st',
): Knex.QueryBuilder {
  switch (user.role) {
    case 'school_admin':
      return q.where(`${alias}.school_id`, user.schoolId);
    case 'teacher':
      return q.whereIn(
        `${alias}.class_id`,
        knex('class_teachers as vct').where('vct.account_id', user.accountId).select('vct.class_id'),
      );
    case 'parent':
      return q.whereIn(`${alias}.id`, visibleStudentIds(knex, user));
  }
}

export const isStaff = (user: CurrentUser | undefined): boolean =>
  user?.role === 'teacher' || user?.role === 'school_admin';

/** A class as the class pickers show it. */
export interface ClassRef {
  id: number;
  name: string;
  code: string;
  schoolYear: number;
}

/**
 * "My classes": the classes this staff member may see (a teacher's own, an admin's whole school), newest school
 * year first, then by code — the one list every class picker and default class uses. A parent has none.
 */
export async function myClasses(knex: Knex, user: CurrentUser): Promise<ClassRef[]> {
  if (user.role === 'parent') return [];
  const rows: { id: number; name: string; code: string; school_year: number }[] = await knex('classes as c')
    .whereIn('c.id', visibleClassIds(knex, user))
    .where('c.school_id', user.schoolId)
    .orderBy([{ column: 'c.school_year', order: 'desc' }, 'c.code'])
    .select('c.id', 'c.name', 'c.code', 'c.school_year');
  return rows.map((r) => ({ id: r.id, name: r.name, code: r.code, schoolYear: r.school_year }));
}
