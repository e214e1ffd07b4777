/**
 * Who teaches a class: its homeroom teacher (導師) and an optional deputy (副導師), both of whom review its
 * requests (scope.ts reads `class_teachers` whatever the role). A teacher counts only while the account is not
 * disabled: a class whose only teachers are disabled has no teacher, and the school office sees it flagged on 審核.
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export const CLASS_TEACHER_ROLES = ['homeroom', 'deputy'] as const;
export type ClassTeacherRole = (typeof CLASS_TEACHER_ROLES)[number];

/** The words (docs/product.md: 導師 is the homeroom teacher). */
export const CLASS_TEACHER_LABELS: Record<ClassTeacherRole, string> = { homeroom: '導師', deputy: '副導師' };
export const NO_TEACHER_WARNING = '此班級尚無導師';
export const ACCOUNT_STATE_LABELS = { active: '使用中', disabled: '已停用' } as const;

/**
 * Of these classes, the ids of those with at least one active (not disabled) teacher. Read by class id through
 * class_teachers' primary key and the accounts' (a list of ids, never the city's whole tables).
 */
async function classIdsWithActiveTeacher(knex: Db, classIds: readonly number[]): Promise<Set<number>> {
  if (classIds.length === 0) return new Set();
  // Two lookups by id (a join lets the planner walk the whole accounts index when its statistics are thin).
  const links = (await knex('class_teachers')
    .whereIn('class_id', [...new Set(classIds)])
    .select('class_id', 'account_id')) as { class_id: number; account_id: number }[];
  if (links.length === 0) return new Set();
  const active = new Set(
    (await knex('accounts')
      .whereIn('id', [...new Set(links.map((l) => l.account_id))])
      .whereNull('disabled_at')
      .pluck('id')) as number[],
  );
  return new Set(links.filter((l) => active.has(l.account_id)).map((l) => l.class_id));
}

/** Of these classes, the ids of those with no active teacher. */
export async function classIdsWithoutTeacher(knex: Db, classIds: readonly number[]): Promise<Set<number>> {
  const taught = await classIdsWithActiveTeacher(knex, classIds);
  return new Set(classIds.filter((id) => !taught.has(id)));
}

export interface TeacherRow {
  accountId: number;
  login: string;
  name: string;
  disabled: boolean;
  classes: { classId: number; className: string; schoolYear: number; role: ClassTeacherRole }[];
}

/** The school's teacher accounts (active first, then by 帳號) with the classes they teach. */
export async function teachersOfSchool(knex: Db, schoolId: number): Promise<TeacherRow[]> {
  const rows = (await knex('accounts as a')
    .leftJoin('class_teachers as ct', 'ct.account_id', 'a.id')
    .leftJoin('classes as c', 'c.id', 'ct.class_id')
    .where({ 'a.school_id': schoolId, 'a.role': 'teacher' })
    .orderByRaw('a.disabled_at is not null, a.login, c.school_year desc nulls last, c.code, ct.role desc')
    .select(
      'a.id',
      'a.login',
      'a.display_name',
      'a.disabled_at',
      'c.id as class_id',
      'c.name as class_name',
      'c.school_year',
      'ct.role',
    )) as {
    id: number;
    login: string;
    display_name: string;
    disabled_at: Date | null;
    class_id: number | null;
    class_name: string | null;
    school_year: number | null;
    role: ClassTeacherRole | null;
  }[];
  const out: TeacherRow[] = [];
  const byId = new Map<number, TeacherRow>();
  for (const r of rows) {
    let t = byId.get(r.id);
    if (!t) {
      t = { accountId: r.id, login: r.login, name: r.display_name, disabled: r.disabled_at !== null, classes: [] };
      byId.set(r.id, t);
      out.push(t);
    }
    if (r.class_id !== null)
      t.classes.push({ classId: r.class_id, className: r.class_name!, schoolYear: r.school_year!, role: r.role! });
  }
  return out;
}

/** The school's classes of a school year that have no active teacher (for the teachers page). */
export async function classesWithoutTeacher(
  knex: Db,
  schoolId: number,
  schoolYear: number,
): Promise<{ id: number; name: string; schoolYear: number }[]> {
  const classes = (await knex('classes as c')
    .where({ 'c.school_id': schoolId, 'c.school_year': schoolYear })
    .orderBy('c.code')
    .select('c.id', 'c.name', 'c.school_year as schoolYear')) as { id: number; name: string; schoolYear: number }[];
  const without = await classIdsWithoutTeacher(
    knex,
    classes.map((c) => c.id),
  );
  return classes.filter((c) => without.has(c.id));
}
