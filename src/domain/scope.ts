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

/**
 * visibleStudentIds as a condition on a `students` row the query already joins (as `alias`): for the school
 * office its own `school_id`, for a teacher that and the subquery, for a parent the subquery. The office's
 * subquery (the school's students again) made the planner expect a handful of rows where there are thousands
 * (issue 14); the row's own column it estimates truly.
 */
export function whereStudentVisible<Q extends Knex.QueryBuilder>(knex: Knex, q: Q, alias: string, user: CurrentUser): Q {
  if (user.role !== 'parent') q.where(`${alias}.school_id`, user.schoolId);
  if (user.role !== 'school_admin') q.whereIn(`${alias}.id`, visibleStudentIds(knex, user));
  return q;
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
 * The schools whose rows this user may see: the staff member's school, the parent's children's schools. Not a
 * scope by itself (always used beside visibleStudentIds): it lets a query on a table that carries school_id
 * (subscriptions, sms_outbox, attendance_days) read one school's rows through its (school_id, …) index.
 */
export function visibleSchoolIds(user: CurrentUser): number[] {
  if (user.role !== 'parent') return [user.schoolId];
  return [...new Set(user.children.map((c) => c.schoolId))];
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
