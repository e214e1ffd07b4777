/**
 * Factories: each test builds the records it needs. Defaults give a school in 中正區, a class 401, etc.;
 * pass overrides for what the test cares about.
 */
import type { Knex } from 'knex';
import { hashPassword } from '../../src/domain/accounts/passwords.js';

export const PASSWORD = 'demo-1234';
let hashed: Promise<string> | undefined;
/** bcrypt of PASSWORD at the real cost, computed once per file. */
export const passwordHash = () => (hashed ??= hashPassword(PASSWORD));

let seq = 0;
const next = () => ++seq;

export async function ensureReference(knex: Knex): Promise<void> {
  await knex('school_levels')
    .insert([
      { code: 'elementary', name: '國小', sort_order: 1 },
      { code: 'junior_high', name: '國中', sort_order: 2 },
      { code: 'senior_high', name: '高中', sort_order: 3 },
      { code: 'vocational', name: '高職', sort_order: 4 },
    ])
    .onConflict('code')
    .ignore();
}

export async function createDistrict(knex: Knex, name = '中正區'): Promise<number> {
  await ensureReference(knex);
  const existing = await knex('districts').where({ name }).first('id');
  if (existing) return existing.id as number;
  const [row] = await knex('districts').insert({ name, sort_order: next() }).returning('id');
  return row.id as number;
}

export async function createSchool(
  knex: Knex,
  o: { name?: string; code?: string; level?: string; district?: string } = {},
): Promise<number> {
  const districtId = await createDistrict(knex, o.district ?? '中正區');
  const [row] = await knex('schools')
    .insert({
      code: o.code ?? String(300000 + next()),
      level: o.level ?? 'elementary',
      name: o.name ?? `市立測試${next()}國小`,
      district_id: districtId,
    })
    .returning('id');
  return row.id as number;
}

export async function createClass(
  knex: Knex,
  schoolId: number,
  o: { code?: string; name?: string; grade?: number; schoolYear?: number } = {},
): Promise<number> {
  const code = o.code ?? '401';
  const [row] = await knex('classes')
    .insert({
      school_id: schoolId,
      school_year: o.schoolYear ?? 115,
      grade: o.grade ?? Number(code.slice(0, code.length - 2)),
      code,
      name: o.name ?? `${code}班`,
    })
    .returning('id');
  return row.id as number;
}

export async function createStaff(
  knex: Knex,
  schoolId: number,
  o: {
    role?: 'teacher' | 'school_admin';
    login?: string;
    name?: string;
    classIds?: number[];
    mustChange?: boolean;
  } = {},
): Promise<number> {
  const [row] = await knex('accounts')
    .insert({
      role: o.role ?? 'teacher',
      school_id: schoolId,
      login: o.login ?? `t${next()}`,
      display_name: o.name ?? '林老師',
      password_hash: await passwordHash(),
      must_change_password: o.mustChange ?? false,
    })
    .returning('id');
  for (const classId of o.classIds ?? [])
    await knex('class_teachers').insert({ class_id: classId, account_id: row.id });
  return row.id as number;
}

export async function createStudent(
  knex: Knex,
  classId: number,
  o: { name?: string; studentNumber?: string; seat?: number } = {},
): Promise<number> {
  const cls = await knex('classes').where({ id: classId }).first('school_id');
  const n = next();
  const [row] = await knex('students')
    .insert({
      school_id: cls.school_id,
      class_id: classId,
      student_number: o.studentNumber ?? String(11300000 + n),
      seat_number: o.seat ?? (n % 99) + 1,
      name: o.name ?? `學生${n}`,
    })
    .returning('id');
  return row.id as number;
}

/** A guardian with a parent account whose login is the (first) child's 學號. */
export async function createParent(
  knex: Knex,
  studentIds: number[],
  o: { name?: string; login?: string; mustChange?: boolean } = {},
): Promise<{ accountId: number; guardianId: number; login: string; schoolId: number }> {
  const first = await knex('students').where({ id: studentIds[0] }).first('school_id', 'student_number');
  const [g] = await knex('guardians')
    .insert({ name: o.name ?? '王家長' })
    .returning('id');
  for (const sid of studentIds) await addChild(knex, g.id as number, sid);
  const login = o.login ?? (first.student_number as string);
  const [a] = await knex('accounts')
    .insert({
      role: 'parent',
      school_id: first.school_id,
      login,
      display_name: o.name ?? '王家長',
      guardian_id: g.id,
      password_hash: await passwordHash(),
      must_change_password: o.mustChange ?? false,
    })
    .returning('id');
  return { accountId: a.id as number, guardianId: g.id as number, login, schoolId: first.school_id as number };
}

/** Another child of a guardian (a sibling, or a family joined later). */
export async function addChild(knex: Knex, guardianId: number, studentId: number): Promise<void> {
  await knex('guardian_students').insert({ guardian_id: guardianId, student_id: studentId });
}

/** A 臺北卡 identity (issuer, subject) already linked to these accounts. */
export async function createTaipeiCardLink(
  knex: Knex,
  identity: { issuer: string; subject: string },
  accountIds: number[],
): Promise<number> {
  const [row] = await knex('taipei_card_identities').insert(identity).returning('id');
  for (const accountId of accountIds)
    await knex('taipei_card_links').insert({ identity_id: row.id, account_id: accountId });
  return row.id as number;
}

export async function createPeriod(
  knex: Knex,
  schoolId: number,
  o: { name?: string; startsOn?: string; endsOn?: string; arrivalFee?: number; departureFee?: number } = {},
): Promise<number> {
  const [row] = await knex('service_periods')
    .insert({
      school_id: schoolId,
      name: o.name ?? `115學年度上學期${next()}`,
      starts_on: o.startsOn ?? '2026-08-31',
      ends_on: o.endsOn ?? '2027-01-20',
      arrival_fee: o.arrivalFee ?? 150,
      departure_fee: o.departureFee ?? 150,
    })
    .returning('id');
  return row.id as number;
}

/** A subscription in a given state, as the service would have left it (no review request rows). */
export async function createSubscription(
  knex: Knex,
  studentId: number,
  periodId: number,
  o: {
    status?: string;
    arrival?: boolean;
    departure?: boolean;
    appliedOn?: string;
    effectiveOn?: string | null;
    cancelledOn?: string | null;
    applicantAccountId?: number | null;
    applicantName?: string;
  } = {},
): Promise<number> {
  const [row] = await knex('subscriptions')
    .insert({
      student_id: studentId,
      period_id: periodId,
      arrival: o.arrival ?? true,
      departure: o.departure ?? true,
      status: o.status ?? 'active',
      applicant_account_id: o.applicantAccountId ?? null,
      applicant_name: o.applicantName ?? '系統管理員',
      applied_on: o.appliedOn ?? '2026-09-01',
      effective_on: o.effectiveOn === undefined ? '2026-09-02' : o.effectiveOn,
      cancelled_on: o.cancelledOn ?? null,
    })
    .returning('id');
  return row.id as number;
}

/** One school with class 401 (teacher t401), class 402 (teacher t402), an admin, and a child with a parent. */
export async function createSchoolWorld(knex: Knex, o: { schoolName?: string; district?: string } = {}) {
  const schoolId = await createSchool(knex, { name: o.schoolName ?? '市立忠孝國小', district: o.district });
  const class401 = await createClass(knex, schoolId, { code: '401', name: '四年一班', grade: 4 });
  const class402 = await createClass(knex, schoolId, { code: '402', name: '四年二班', grade: 4 });
  const teacher401 = await createStaff(knex, schoolId, { login: 't401', name: '林老師', classIds: [class401] });
  const teacher402 = await createStaff(knex, schoolId, { login: 't402', name: '張老師', classIds: [class402] });
  const admin = await createStaff(knex, schoolId, { role: 'school_admin', login: 'admin', name: '忠孝國小教務處' });
  const student = await createStudent(knex, class401, { name: '王小明', studentNumber: '11301001', seat: 1 });
  const parent = await createParent(knex, [student], { name: '王大明' });
  return { schoolId, class401, class402, teacher401, teacher402, admin, student, parent };
}
