/**
 * CSV import of a school's classes, students, guardians and parent accounts, and (with the optional 導師帳號
 * column) each class's homeroom teacher. The whole file is checked first, in one pass — the format of each row,
 * conflicts inside the file and conflicts with what the database holds — so every problem is listed at once with
 * its line number, and one problem means nothing is imported. Re-importing the
 * same (or a corrected) file updates what exists, keyed by natural keys — class (school, 學年度, 班級代碼),
 * student (school, 學號), parent account (parent, school, login = 學號) — and never duplicates.
 */
import type { Knex } from 'knex';
import { hashOneTimePassword, oneTimePassword } from '../accounts/passwords.js';
import { parseCsv } from './csv.js';
import { auditAdmin } from './commands.js';
import { activeTeachers, setClassTeacher, staffLoginProblem, teacherProblem } from './staff.js';

/** The header of the file, in order (Chinese, as the school office sees it; English names accepted too). */
export const COLUMNS = [
  { zh: '班級代碼', en: 'class_code' },
  { zh: '班級名稱', en: 'class_name' },
  { zh: '年級', en: 'grade' },
  { zh: '學號', en: 'student_number' },
  { zh: '座號', en: 'seat_number' },
  { zh: '學生姓名', en: 'student_name' },
  { zh: '家長姓名', en: 'guardian_name' },
  { zh: '關係', en: 'relationship' },
] as const;

/** The optional last column: the 帳號 of the class's homeroom teacher (導師), a teacher account of the school. */
export const TEACHER_COLUMN = { zh: '導師帳號', en: 'homeroom_teacher' } as const;

/** The passwords file (one slip per new parent account, sorted by class and seat). */
export const PASSWORD_FILE_COLUMNS = ['班級', '座號', '學生姓名', '帳號', '一次性密碼'] as const;

export interface RosterRow {
  line: number;
  classCode: string;
  className: string;
  grade: number;
  studentNumber: string;
  seat: number;
  studentName: string;
  guardianName: string;
  relationship: string;
  /** 導師帳號 ('' when the column is absent or the cell is blank). */
  teacherLogin: string;
}

export interface ImportProblem {
  line: number;
  message: string;
}

export interface NewAccount {
  login: string;
  classCode: string;
  className: string;
  seat: number;
  studentName: string;
  guardianName: string;
  password: string;
}

export interface ImportReport {
  ok: boolean;
  dryRun: boolean;
  problems: ImportProblem[];
  rows: number;
  classes: { created: number; updated: number; unchanged: number };
  students: { created: number; updated: number; unchanged: number };
  guardians: { created: number; updated: number; unchanged: number };
  /** Homeroom teachers set from the 導師帳號 column (assigned: new or replaced). */
  teachers: { assigned: number; unchanged: number };
  /** New parent accounts with their one-time passwords (empty in a dry run: nothing was created). */
  accounts: NewAccount[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const clean = (v: string) => v.normalize('NFKC').trim();

function validName(v: string, max: number): boolean {
  return v.length >= 1 && v.length <= max && !CONTROL.test(v);
}

/** Parse and check every row on its own and against the others; no database access. */
export function validateRoster(text: string): { rows: RosterRow[]; problems: ImportProblem[] } {
  const problems: ImportProblem[] = [];
  const records = parseCsv(text);
  const header = records.shift();
  if (!header) return { rows: [], problems: [{ line: 1, message: '檔案是空的' }] };
  const names = header.fields.map(clean);
  const expectedZh: string[] = COLUMNS.map((c) => c.zh);
  const expectedEn: string[] = COLUMNS.map((c) => c.en);
  const same = (a: readonly string[]) => a.length === names.length && a.every((n, i) => n === names[i]);
  const withTeacher = same([...expectedZh, TEACHER_COLUMN.zh]) || same([...expectedEn, TEACHER_COLUMN.en]);
  if (!withTeacher && !same(expectedZh) && !same(expectedEn)) {
    return {
      rows: [],
      problems: [
        { line: header.line, message: `標題列應為：${expectedZh.join(',')}（可再加一欄 ${TEACHER_COLUMN.zh}）` },
      ],
    };
  }
  const columnCount = COLUMNS.length + (withTeacher ? 1 : 0);
  if (records.length === 0) problems.push({ line: header.line + 1, message: '沒有資料列' });
  const rows: RosterRow[] = [];
  for (const r of records) {
    const p = (message: string) => problems.push({ line: r.line, message });
    if (r.fields.length !== columnCount) {
      p(`欄位數應為 ${columnCount}，此列有 ${r.fields.length} 欄`);
      continue;
    }
    const [
      classCode,
      className,
      grade,
      studentNumber,
      seat,
      studentName,
      guardianName,
      relationship,
      teacherLogin = '',
    ] = r.fields.map(clean) as string[];
    const before = problems.length;
    if (!/^[0-9A-Za-z]{1,10}$/.test(classCode!)) p(`班級代碼「${classCode}」格式有誤（1 到 10 碼英數字，例如 401）`);
    if (!validName(className!, 30)) p('班級名稱必填，最多 30 個字');
    if (!/^(?:[1-9]|1[0-2])$/.test(grade!)) p(`年級「${grade}」應為 1 到 12 的數字`);
    if (!/^[0-9A-Za-z]{1,16}$/.test(studentNumber!)) p(`學號「${studentNumber}」格式有誤（1 到 16 碼英數字）`);
    if (!/^(?:[1-9]|[1-9][0-9])$/.test(seat!)) p(`座號「${seat}」應為 1 到 99 的數字`);
    if (!validName(studentName!, 50)) p('學生姓名必填，最多 50 個字');
    if (!validName(guardianName!, 50)) p('家長姓名必填，最多 50 個字');
    if (relationship!.length > 10 || CONTROL.test(relationship!)) p('關係最多 10 個字');
    if (teacherLogin !== '') {
      const bad = staffLoginProblem(teacherLogin);
      if (bad) p(`導師${bad}`);
    }
    if (problems.length > before) continue;
    rows.push({
      line: r.line,
      classCode: classCode!,
      className: className!,
      grade: Number(grade),
      studentNumber: studentNumber!,
      seat: Number(seat),
      studentName: studentName!,
      guardianName: guardianName!,
      relationship: relationship!,
      teacherLogin,
    });
  }
  // Across rows: a 學號 once; a seat once per class; a class code always with the same name and grade.
  const byNumber = new Map<string, number>();
  const bySeat = new Map<string, number>();
  const classDef = new Map<string, { name: string; grade: number; line: number }>();
  const classTeacher = new Map<string, { login: string; line: number }>();
  for (const r of rows) {
    const n = byNumber.get(r.studentNumber);
    if (n !== undefined) problems.push({ line: r.line, message: `學號 ${r.studentNumber} 重複（第 ${n} 行已出現）` });
    else byNumber.set(r.studentNumber, r.line);
    const seatKey = `${r.classCode}/${r.seat}`;
    const s = bySeat.get(seatKey);
    if (s !== undefined)
      problems.push({ line: r.line, message: `班級 ${r.classCode} 座號 ${r.seat} 重複（第 ${s} 行已出現）` });
    else bySeat.set(seatKey, r.line);
    const c = classDef.get(r.classCode);
    if (!c) classDef.set(r.classCode, { name: r.className, grade: r.grade, line: r.line });
    else if (c.name !== r.className || c.grade !== r.grade)
      problems.push({ line: r.line, message: `班級 ${r.classCode} 的名稱或年級與第 ${c.line} 行不同` });
    if (r.teacherLogin !== '') {
      const t = classTeacher.get(r.classCode);
      if (!t) classTeacher.set(r.classCode, { login: r.teacherLogin, line: r.line });
      else if (t.login !== r.teacherLogin)
        problems.push({
          line: r.line,
          message: `班級 ${r.classCode} 的導師帳號 ${r.teacherLogin} 與第 ${t.line} 行的 ${t.login} 不同（一個班級只有一位導師）`,
        });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows, problems };
}

/**
 * Checks that need the database, run on every well-formed row (beside the format problems of the others): a
 * seat already taken by a student who is not in the file; a 學號 that belongs to another student (the student's
 * name and the guardian's name both differ from the database: one of them alone is a correction); a 導師帳號
 * that is not an active teacher account of the school.
 */
async function databaseProblems(
  knex: Knex,
  schoolId: number,
  schoolYear: number,
  rows: RosterRow[],
): Promise<ImportProblem[]> {
  const problems: ImportProblem[] = [];
  if (rows.length === 0) return problems;
  const inFile = new Set(rows.map((r) => r.studentNumber));
  const taken = (await knex('students as st')
    .join('classes as c', 'c.id', 'st.class_id')
    .where('c.school_id', schoolId)
    .where('c.school_year', schoolYear)
    .whereIn('c.code', [...new Set(rows.map((r) => r.classCode))])
    .select('c.code', 'st.seat_number', 'st.student_number')) as {
    code: string;
    seat_number: number;
    student_number: string;
  }[];
  const occupant = new Map(taken.map((t) => [`${t.code}/${t.seat_number}`, t.student_number]));
  for (const r of rows) {
    const who = occupant.get(`${r.classCode}/${r.seat}`);
    if (who && who !== r.studentNumber && !inFile.has(who))
      problems.push({
        line: r.line,
        message: `班級 ${r.classCode} 座號 ${r.seat} 已由學號 ${who} 使用（該學生不在此檔案中）`,
      });
  }
  const known = (await knex('students as st')
    .leftJoin('accounts as a', (j) =>
      j.on('a.login', 'st.student_number').andOn('a.school_id', 'st.school_id').andOnVal('a.role', 'parent'),
    )
    .leftJoin('guardians as g', 'g.id', 'a.guardian_id')
    .where('st.school_id', schoolId)
    .whereIn('st.student_number', [...inFile])
    .select('st.student_number', 'st.name', 'g.name as guardian_name')) as {
    student_number: string;
    name: string;
    guardian_name: string | null;
  }[];
  const byNumber = new Map(known.map((k) => [k.student_number, k]));
  for (const r of rows) {
    const k = byNumber.get(r.studentNumber);
    if (k && k.name !== r.studentName && (k.guardian_name === null || k.guardian_name !== r.guardianName))
      problems.push({
        line: r.line,
        message: `學號 ${r.studentNumber} 已屬於另一位學生「${k.name}」${k.guardian_name ? `（家長 ${k.guardian_name}）` : ''}，與此列的學生姓名及家長姓名都不同`,
      });
  }
  const logins = [...new Set(rows.map((r) => r.teacherLogin).filter((l) => l !== ''))];
  const teachers = await activeTeachers(knex, schoolId, logins);
  const why = new Map<string, string>();
  for (const l of logins)
    if (!teachers.has(l)) why.set(l, (await teacherProblem(knex, schoolId, l)) ?? `帳號 ${l} 不是本校的教師帳號`);
  for (const r of rows) {
    const w = why.get(r.teacherLogin);
    if (w) problems.push({ line: r.line, message: `導師帳號：${w}` });
  }
  return problems;
}

export interface ImportOptions {
  schoolId: number;
  schoolYear: number;
  dryRun?: boolean;
  /** Hash for new accounts' one-time passwords (hashOneTimePassword by default: see ONE_TIME_PASSWORD_COST). */
  hash?: (password: string) => Promise<string>;
  newPassword?: () => string;
}

const emptyCounts = () => ({ created: 0, updated: 0, unchanged: 0 });

class DryRunRollback extends Error {}

/** Rows per multi-row INSERT (well under PostgreSQL's 65,535 bind parameters). */
const CHUNK = 1000;

async function insertChunked(trx: Knex.Transaction, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await trx(table).insert(rows.slice(i, i + CHUNK));
}

/** Parent accounts of this school whose login (= 學號) is in the list, with their guardian's name. */
async function parentAccounts(knex: Knex, schoolId: number, logins: string[]) {
  const rows = (await knex('accounts as a')
    .join('guardians as g', 'g.id', 'a.guardian_id')
    .where({ 'a.role': 'parent', 'a.school_id': schoolId })
    .whereIn('a.login', logins)
    .select('a.id', 'a.login', 'a.guardian_id', 'g.name', 'a.display_name')) as {
    id: number;
    login: string;
    guardian_id: number;
    name: string;
    display_name: string;
  }[];
  return new Map(rows.map((r) => [r.login, r]));
}

/**
 * One-time passwords and their hashes for the accounts to be created, computed concurrently (bcrypt runs on
 * libuv's thread pool) and before the transaction opens, so the transaction holds no lock while they run.
 */
async function passwordsFor(logins: string[], newPassword: () => string, hash: (p: string) => Promise<string>) {
  const out = new Map<string, { password: string; hash: string }>();
  await Promise.all(
    logins.map(async (login) => {
      const password = newPassword();
      out.set(login, { password, hash: await hash(password) });
    }),
  );
  return out;
}

export async function importRoster(knex: Knex, text: string, o: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = {
    ok: false,
    dryRun: o.dryRun ?? false,
    problems: [],
    rows: 0,
    classes: emptyCounts(),
    students: emptyCounts(),
    guardians: emptyCounts(),
    teachers: { assigned: 0, unchanged: 0 },
    accounts: [],
  };
  const { rows, problems } = validateRoster(text);
  report.rows = rows.length;
  const dbProblems = await databaseProblems(knex, o.schoolId, o.schoolYear, rows);
  report.problems = [...problems, ...dbProblems].sort((a, b) => a.line - b.line);
  if (report.problems.length > 0) return report;

  const hash = o.hash ?? hashOneTimePassword;
  const newPassword = o.newPassword ?? oneTimePassword;
  const logins = rows.map((r) => r.studentNumber);
  const before = await parentAccounts(knex, o.schoolId, logins);
  const issued = o.dryRun
    ? new Map<string, { password: string; hash: string }>()
    : await passwordsFor(
        logins.filter((l) => !before.has(l)),
        newPassword,
        hash,
      );
  try {
    await knex.transaction(async (trx) => {
      // Classes: one read, the new ones in one INSERT.
      const classIds = new Map<string, number>();
      const existingClasses = new Map(
        (
          (await trx('classes')
            .where({ school_id: o.schoolId, school_year: o.schoolYear })
            .whereIn('code', [...new Set(rows.map((r) => r.classCode))])
            .select('id', 'code', 'name', 'grade')) as { id: number; code: string; name: string; grade: number }[]
        ).map((c) => [c.code, c]),
      );
      const newClasses: Record<string, unknown>[] = [];
      for (const r of rows) {
        if (classIds.has(r.classCode) || newClasses.some((c) => c.code === r.classCode)) continue;
        const existing = existingClasses.get(r.classCode);
        if (existing) {
          classIds.set(r.classCode, existing.id);
          if (existing.name !== r.className || existing.grade !== r.grade) {
            await trx('classes').where({ id: existing.id }).update({ name: r.className, grade: r.grade });
            report.classes.updated++;
          } else report.classes.unchanged++;
        } else
          newClasses.push({
            school_id: o.schoolId,
            school_year: o.schoolYear,
            code: r.classCode,
            name: r.className,
            grade: r.grade,
          });
      }
      if (newClasses.length > 0) {
        const created = (await trx('classes').insert(newClasses).returning(['id', 'code'])) as {
          id: number;
          code: string;
        }[];
        for (const c of created) classIds.set(c.code, c.id);
        report.classes.created += created.length;
      }
      // Homeroom teachers from the 導師帳號 column (checked above: active teachers of this school).
      const teacherOf = new Map(rows.filter((r) => r.teacherLogin !== '').map((r) => [r.classCode, r.teacherLogin]));
      const teacherIds = await activeTeachers(trx, o.schoolId, [...teacherOf.values()]);
      for (const [code, login] of teacherOf) {
        const accountId = teacherIds.get(login);
        if (accountId === undefined) throw new Error(`teacher ${login} disappeared during the import`);
        const r = await setClassTeacher(trx, classIds.get(code)!, accountId, 'homeroom');
        if (r.changed) {
          report.teachers.assigned++;
          await auditAdmin(trx, 'class_teacher.assigned', {
            schoolId: o.schoolId,
            targetType: 'class',
            targetId: classIds.get(code)!,
            details: { role: 'homeroom', login, replacedAccountId: r.replaced ?? null, from: 'import' },
          });
        } else report.teachers.unchanged++;
      }
      // Students. Seats that move inside the file are first parked on free seats so that swaps work.
      const existing = new Map(
        (
          (await trx('students')
            .where('school_id', o.schoolId)
            .whereIn('student_number', logins)
            .select('id', 'student_number', 'class_id', 'seat_number', 'name')) as {
            id: number;
            student_number: string;
            class_id: number;
            seat_number: number;
            name: string;
          }[]
        ).map((s) => [s.student_number, s]),
      );
      const moving = rows.filter((r) => {
        const s = existing.get(r.studentNumber);
        return s && (s.class_id !== classIds.get(r.classCode) || s.seat_number !== r.seat);
      });
      for (const r of moving) {
        const s = existing.get(r.studentNumber)!;
        const used = new Set((await trx('students').where('class_id', s.class_id).pluck('seat_number')) as number[]);
        let park = 99;
        while (park > 0 && used.has(park)) park--;
        if (park > 0) await trx('students').where({ id: s.id }).update({ seat_number: park });
      }
      const studentIds = new Map<string, number>();
      const newStudents: Record<string, unknown>[] = [];
      for (const r of rows) {
        const classId = classIds.get(r.classCode)!;
        const s = existing.get(r.studentNumber);
        if (s) {
          studentIds.set(r.studentNumber, s.id);
          if (s.class_id !== classId || s.seat_number !== r.seat || s.name !== r.studentName) {
            await trx('students')
              .where({ id: s.id })
              .update({ class_id: classId, seat_number: r.seat, name: r.studentName });
            report.students.updated++;
          } else report.students.unchanged++;
        } else
          newStudents.push({
            school_id: o.schoolId,
            class_id: classId,
            student_number: r.studentNumber,
            seat_number: r.seat,
            name: r.studentName,
          });
      }
      for (let i = 0; i < newStudents.length; i += CHUNK) {
        const created = (await trx('students')
          .insert(newStudents.slice(i, i + CHUNK))
          .returning(['id', 'student_number'])) as { id: number; student_number: string }[];
        for (const c of created) studentIds.set(c.student_number, c.id);
        report.students.created += created.length;
      }
      // Guardians and parent accounts (login = the child's 學號).
      const accounts = await parentAccounts(trx, o.schoolId, logins);
      const links = new Map(
        (
          (await trx('guardian_students')
            .whereIn(
              'guardian_id',
              [...accounts.values()].map((a) => a.guardian_id),
            )
            .select('guardian_id', 'student_id', 'relationship')) as {
            guardian_id: number;
            student_id: number;
            relationship: string | null;
          }[]
        ).map((l) => [`${l.guardian_id}/${l.student_id}`, l]),
      );
      const fresh: RosterRow[] = [];
      for (const r of rows) {
        const studentId = studentIds.get(r.studentNumber)!;
        const account = accounts.get(r.studentNumber);
        if (!account) {
          fresh.push(r);
          continue;
        }
        const link = links.get(`${account.guardian_id}/${studentId}`);
        const changed =
          account.name !== r.guardianName ||
          account.display_name !== r.guardianName ||
          !link ||
          (link.relationship ?? '') !== r.relationship;
        if (changed) {
          await trx('guardians').where({ id: account.guardian_id }).update({ name: r.guardianName });
          await trx('accounts').where({ id: account.id }).update({ display_name: r.guardianName });
          await trx('guardian_students')
            .insert({ guardian_id: account.guardian_id, student_id: studentId, relationship: r.relationship || null })
            .onConflict(['guardian_id', 'student_id'])
            .merge({ relationship: r.relationship || null });
          report.guardians.updated++;
        } else report.guardians.unchanged++;
      }
      if (fresh.length > 0) {
        // Guardian ids taken from the sequence first, so each account and link knows its guardian without
        // relying on the order of an INSERT's RETURNING rows.
        const ids = (
          await trx.raw<{ rows: { id: number }[] }>(
            `select nextval(pg_get_serial_sequence('guardians', 'id'))::int as id from generate_series(1, ?)`,
            [fresh.length],
          )
        ).rows.map((x) => x.id);
        const late = fresh.filter((r) => !issued.has(r.studentNumber)); // created by someone else since the first look
        if (!o.dryRun && late.length > 0)
          for (const [k, v] of await passwordsFor(
            late.map((r) => r.studentNumber),
            newPassword,
            hash,
          ))
            issued.set(k, v);
        await insertChunked(
          trx,
          'guardians',
          fresh.map((r, i) => ({ id: ids[i], name: r.guardianName })),
        );
        await insertChunked(
          trx,
          'guardian_students',
          fresh.map((r, i) => ({
            guardian_id: ids[i],
            student_id: studentIds.get(r.studentNumber)!,
            relationship: r.relationship || null,
          })),
        );
        await insertChunked(
          trx,
          'accounts',
          fresh.map((r, i) => ({
            role: 'parent',
            school_id: o.schoolId,
            login: r.studentNumber,
            display_name: r.guardianName,
            guardian_id: ids[i],
            password_hash: o.dryRun ? '!dry-run' : issued.get(r.studentNumber)!.hash,
            must_change_password: true,
          })),
        );
        report.guardians.created += fresh.length;
        if (!o.dryRun)
          for (const r of fresh)
            report.accounts.push({
              login: r.studentNumber,
              classCode: r.classCode,
              className: r.className,
              seat: r.seat,
              studentName: r.studentName,
              guardianName: r.guardianName,
              password: issued.get(r.studentNumber)!.password,
            });
        report.accounts.sort(
          (a, b) => a.classCode.localeCompare(b.classCode, 'en', { numeric: true }) || a.seat - b.seat,
        );
      }
      await trx('audit_log').insert({
        actor_account_id: null,
        school_id: o.schoolId,
        action: 'admin.import',
        target_type: 'school',
        target_id: String(o.schoolId),
        details: JSON.stringify({
          rows: rows.length,
          classes: report.classes,
          students: report.students,
          guardians: report.guardians,
          teachers: report.teachers,
        }),
      });
      if (o.dryRun) throw new DryRunRollback();
    });
  } catch (e) {
    if (!(e instanceof DryRunRollback)) throw e;
  }
  report.ok = true;
  return report;
}
