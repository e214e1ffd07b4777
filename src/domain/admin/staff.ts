/**
 * Staff accounts (教師, 學校管理者) and homeroom assignments, for a school that runs the service on its own:
 * staff:create, staff:disable and class:assign-teacher. Each checks everything before it writes, writes and
 * audits in one transaction, and in a dry run only reports what it would do.
 */
import type { Knex } from 'knex';
import { issueOneTimePassword } from '../accounts/passwords.js';
import { endSessionsOf } from '../accounts/sessions.js';
import { hasControlChars } from '../text.js';
import { CLASS_TEACHER_LABELS, type ClassTeacherRole } from '../schools/class-teachers.js';
import { auditAdmin } from './commands.js';
import { AdminError } from './schools.js';

type Db = Knex | Knex.Transaction;

export const STAFF_ROLES = ['teacher', 'school_admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
const STAFF_ROLE_LABELS: Record<StaffRole, string> = { teacher: '教師', school_admin: '學校管理者' };

/** A staff 帳號: letters, digits and . _ - (1 to 32, starting with a letter or digit), as the login form takes it. */
export const STAFF_LOGIN_RE = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;

const clean = (v: string) => v.normalize('NFKC').trim();

export function staffLoginProblem(login: string): string | undefined {
  return STAFF_LOGIN_RE.test(login) ? undefined : `帳號「${login}」格式有誤（1 到 32 個英數字或 . _ -，以英數字開頭）`;
}

async function staffAccount(knex: Db, schoolId: number, login: string) {
  return (await knex('accounts')
    .where({ school_id: schoolId, login })
    .whereIn('role', STAFF_ROLES)
    .first('id', 'role', 'display_name', 'disabled_at')) as
    | { id: number; role: StaffRole; display_name: string; disabled_at: Date | null }
    | undefined;
}

/** staff:create — a teacher or school admin with a one-time password (shown once; must change it at first sign-in). */
export async function createStaffAccount(
  knex: Knex,
  o: { schoolId: number; role: string; login: string; name: string; now: Date; dryRun?: boolean },
): Promise<{
  accountId: number | undefined;
  role: StaffRole;
  login: string;
  name: string;
  password: string | undefined;
}> {
  if (!(STAFF_ROLES as readonly string[]).includes(o.role))
    throw new AdminError(`身分別有誤：${o.role}（teacher 教師, school_admin 學校管理者）`);
  const role = o.role as StaffRole;
  const login = clean(o.login);
  const loginProblem = staffLoginProblem(login);
  if (loginProblem) throw new AdminError(loginProblem);
  const name = clean(o.name);
  if (name.length < 1 || name.length > 50 || hasControlChars(name))
    throw new AdminError('姓名必填，最多 50 個字，不可含控制字元');
  const exists = await staffAccount(knex, o.schoolId, login);
  if (exists)
    throw new AdminError(
      `此學校已有帳號 ${login}（${STAFF_ROLE_LABELS[exists.role]} ${exists.display_name}），未建立任何帳號`,
    );
  if (o.dryRun) return { accountId: undefined, role, login, name, password: undefined };
  const { password, hash } = await issueOneTimePassword();
  let accountId = 0;
  try {
    await knex.transaction(async (trx) => {
      const [row] = await trx('accounts')
        .insert({
          role,
          school_id: o.schoolId,
          login,
          display_name: name,
          password_hash: hash,
          must_change_password: true,
          password_changed_at: o.now,
        })
        .returning('id');
      accountId = row.id as number;
      await auditAdmin(trx, 'account.created', {
        schoolId: o.schoolId,
        targetType: 'account',
        targetId: accountId,
        details: { login, role },
      });
    });
  } catch (e) {
    // Created by someone else between the check and the insert.
    if ((e as { code?: string }).code === '23505') throw new AdminError(`此學校已有帳號 ${login}，未建立任何帳號`);
    throw e;
  }
  return { accountId, role, login, name, password };
}

/** staff:disable — the account signs in no more and its sessions end; its classes show as having no teacher. */
export async function disableStaffAccount(
  knex: Knex,
  o: { schoolId: number; login: string; now: Date; dryRun?: boolean },
): Promise<{ accountId: number; role: StaffRole; name: string; classes: number; sessionsEnded: number }> {
  const login = clean(o.login);
  const account = await staffAccount(knex, o.schoolId, login);
  if (!account) throw new AdminError(`找不到此學校的教職員帳號 ${login}，未停用任何帳號`);
  if (account.disabled_at) throw new AdminError(`帳號 ${login}（${account.display_name}）已停用`);
  const classes = Number(
    (await knex('class_teachers').where({ account_id: account.id }).count({ n: '*' }).first())?.n ?? 0,
  );
  const out = { accountId: account.id, role: account.role, name: account.display_name, classes, sessionsEnded: 0 };
  if (o.dryRun) return out;
  await knex.transaction(async (trx) => {
    const n = await trx('accounts')
      .where({ id: account.id })
      .whereNull('disabled_at')
      .update({ disabled_at: o.now, updated_at: o.now });
    if (n === 0) throw new AdminError(`帳號 ${login}（${account.display_name}）已停用`);
    out.sessionsEnded = await endSessionsOf(trx, account.id);
    await auditAdmin(trx, 'account.disabled', {
      schoolId: o.schoolId,
      targetType: 'account',
      targetId: account.id,
      details: { login, role: account.role, classes, sessionsEnded: out.sessionsEnded },
    });
  });
  return out;
}

/** The active teacher accounts of a school with these logins (login → id). */
export async function activeTeachers(
  knex: Db,
  schoolId: number,
  logins: readonly string[],
): Promise<Map<string, number>> {
  if (logins.length === 0) return new Map();
  const rows = (await knex('accounts')
    .where({ school_id: schoolId, role: 'teacher' })
    .whereNull('disabled_at')
    .whereIn('login', [...new Set(logins)])
    .select('id', 'login')) as { id: number; login: string }[];
  return new Map(rows.map((r) => [r.login, r.id]));
}

/** Why a 帳號 cannot be made a class's teacher at this school (another school's teacher is not found here). */
export async function teacherProblem(knex: Db, schoolId: number, login: string): Promise<string | undefined> {
  const acc = (await knex('accounts')
    .where({ school_id: schoolId, login })
    .whereIn('role', STAFF_ROLES)
    .first('role', 'disabled_at')) as { role: StaffRole; disabled_at: Date | null } | undefined;
  if (!acc) return `帳號 ${login} 不是本校的教師帳號（請先以 staff:create 建立）`;
  if (acc.role !== 'teacher') return `帳號 ${login} 是學校管理者，不是教師`;
  if (acc.disabled_at) return `教師帳號 ${login} 已停用`;
  return undefined;
}

/**
 * Make `accountId` the class's teacher in this role inside the caller's transaction: the previous holder of the
 * role is replaced, and the teacher leaves the other role of this class if they held it. Returns the account id
 * it replaced (undefined when the role was empty, or already this teacher's: then nothing changes).
 */
export async function setClassTeacher(
  trx: Knex.Transaction,
  classId: number,
  accountId: number,
  role: ClassTeacherRole,
): Promise<{ changed: boolean; replaced: number | undefined }> {
  const current = (await trx('class_teachers')
    .where({ class_id: classId })
    .forUpdate()
    .select('account_id', 'role')) as { account_id: number; role: ClassTeacherRole }[];
  const holder = current.find((c) => c.role === role);
  if (holder?.account_id === accountId) return { changed: false, replaced: undefined };
  await trx('class_teachers')
    .where({ class_id: classId })
    .where((w) => w.where({ role }).orWhere({ account_id: accountId }))
    .del();
  await trx('class_teachers').insert({ class_id: classId, account_id: accountId, role });
  return { changed: true, replaced: holder?.account_id };
}

async function loginOf(knex: Db, accountId: number | undefined): Promise<string | null> {
  if (accountId === undefined) return null;
  return (
    ((await knex('accounts').where({ id: accountId }).first('login')) as { login: string } | undefined)?.login ?? null
  );
}

/**
 * class:assign-teacher — a class's 導師 (or with `deputy`, its 副導師) is this teacher of the school, replacing
 * whoever held the role; with `remove`, the role is left empty.
 */
export async function assignClassTeacher(
  knex: Knex,
  o: {
    schoolId: number;
    schoolYear: number;
    classCode: string;
    login?: string | undefined;
    deputy: boolean;
    remove: boolean;
    dryRun?: boolean;
  },
): Promise<{
  className: string;
  roleLabel: string;
  teacher: string | null;
  previous: string | null;
  changed: boolean;
}> {
  const role: ClassTeacherRole = o.deputy ? 'deputy' : 'homeroom';
  const roleLabel = CLASS_TEACHER_LABELS[role];
  const code = clean(o.classCode);
  const cls = (await knex('classes')
    .where({ school_id: o.schoolId, school_year: o.schoolYear, code })
    .first('id', 'name')) as { id: number; name: string } | undefined;
  if (!cls)
    throw new AdminError(`找不到 ${o.schoolYear} 學年度的班級 ${code}（可用 --year 指定學年度），未變更任何資料`);
  const holderRow = (await knex('class_teachers as ct')
    .join('accounts as a', 'a.id', 'ct.account_id')
    .where({ 'ct.class_id': cls.id, 'ct.role': role })
    .first('a.id', 'a.login')) as { id: number; login: string } | undefined;
  const previous = holderRow?.login ?? null;
  if (o.remove) {
    if (!holderRow) throw new AdminError(`${cls.name} 目前沒有${roleLabel}，未變更任何資料`);
    if (!o.dryRun)
      await knex.transaction(async (trx) => {
        await trx('class_teachers').where({ class_id: cls.id, role }).del();
        await auditAdmin(trx, 'class_teacher.removed', {
          schoolId: o.schoolId,
          targetType: 'class',
          targetId: cls.id,
          details: { role, login: previous },
        });
      });
    return { className: cls.name, roleLabel, teacher: null, previous, changed: true };
  }
  const login = clean(o.login ?? '');
  const problem = await teacherProblem(knex, o.schoolId, login);
  if (problem) throw new AdminError(`${problem}，未變更任何資料`);
  const accountId = (await activeTeachers(knex, o.schoolId, [login])).get(login)!;
  if (holderRow?.id === accountId) return { className: cls.name, roleLabel, teacher: login, previous, changed: false };
  if (!o.dryRun)
    await knex.transaction(async (trx) => {
      const r = await setClassTeacher(trx, cls.id, accountId, role);
      await auditAdmin(trx, 'class_teacher.assigned', {
        schoolId: o.schoolId,
        targetType: 'class',
        targetId: cls.id,
        details: { role, login, replaced: await loginOf(trx, r.replaced) },
      });
    });
  return { className: cls.name, roleLabel, teacher: login, previous, changed: true };
}
