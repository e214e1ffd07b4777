/** The benchmark's accounts and URLs on a database built by `demo:city`: one city school and its people. */
import type { Knex } from 'knex';
import { monthRange } from '../../src/domain/time.js';
import { PAGE_SIZE } from '../../src/domain/paging.js';
import { createSession } from './sessions.js';

export interface Target {
  key: string;
  name: string;
  path: string;
  role?: 'parent' | 'teacher' | 'school_admin';
}

/** The rows of the page table, in order (the baseline is measured apart, in its own process). */
export const PAGES = (o: {
  lastPage: number;
  classId: number;
  day: string;
  month: { from: string; to: string };
}): Target[] => [
  { key: 'login', name: 'login page 系統登入 (anonymous)', path: '/login' },
  { key: 'parent-home', name: 'parent 首頁', path: '/', role: 'parent' },
  { key: 'parent-account', name: 'parent 我的帳號', path: '/account', role: 'parent' },
  {
    key: 'orders-1',
    name: 'school admin 到離校簡訊訂購服務, page 1',
    path: '/sms/subscriptions',
    role: 'school_admin',
  },
  {
    key: 'orders-last',
    name: `school admin 到離校簡訊訂購服務, last page`,
    path: `/sms/subscriptions?page=${o.lastPage}`,
    role: 'school_admin',
  },
  { key: 'cancellations', name: 'school admin 到離校簡訊註銷服務', path: '/sms/cancellations', role: 'school_admin' },
  { key: 'admin-home', name: 'school admin 首頁', path: '/', role: 'school_admin' },
  { key: 'reviews', name: 'teacher 審核', path: '/reviews', role: 'teacher' },
  {
    key: 'attendance',
    name: 'teacher 出勤管理 (class, one day)',
    path: `/attendance?classId=${o.classId}&date=${o.day}`,
    role: 'teacher',
  },
  {
    key: 'reports',
    name: 'school admin 統計報表 (one month)',
    path: `/reports?from=${o.month.from}&to=${o.month.to}`,
    role: 'school_admin',
  },
  { key: 'messages', name: 'teacher 訊息發送服務', path: '/messages', role: 'teacher' },
];

export interface Scene {
  schoolId: number;
  schoolName: string;
  students: number;
  cityStudents: number;
  targets: Target[];
  cookies: Record<'parent' | 'teacher' | 'school_admin', string>;
}

/** Pick the city school with the highest id (the worst case for scans in id order) and sign its people in. */
export async function scene(knex: Knex): Promise<Scene> {
  const school = await knex('schools as s')
    .whereExists(knex('accounts as a').whereRaw('a.school_id = s.id').where('a.role', 'school_admin'))
    .whereExists(
      knex('students as st')
        .join('cards as cd', 'cd.student_id', 'st.id')
        .whereRaw('st.school_id = s.id')
        .where('cd.card_uid', 'like', 'CITY-%'),
    )
    .orderBy('s.id', 'desc')
    .first('s.id', 's.name');
  if (!school) throw new Error('no demo:city school in this database: run `npm run admin -- demo:city` on it first');
  const admin = await knex('accounts').where({ school_id: school.id, role: 'school_admin' }).first('id');
  const teacher = await knex('class_teachers as ct')
    .join('accounts as a', 'a.id', 'ct.account_id')
    .join('students as st', 'st.class_id', 'ct.class_id')
    .join('subscriptions as s', 's.student_id', 'st.id')
    .join('review_requests as r', 'r.subscription_id', 's.id')
    .where('a.school_id', school.id)
    .where('r.status', 'pending')
    .groupBy('a.id', 'ct.class_id')
    .orderByRaw('count(*) desc')
    .first('a.id', 'ct.class_id');
  const parent = await knex('accounts as a')
    .join('guardian_students as gs', 'gs.guardian_id', 'a.guardian_id')
    .join('subscriptions as s', 's.student_id', 'gs.student_id')
    .where({ 'a.school_id': school.id, 'a.role': 'parent', 's.status': 'active' })
    .orderBy('a.id')
    .first('a.id');
  const subs = Number(
    (
      await knex('subscriptions as s')
        .join('students as st', 'st.id', 's.student_id')
        .where('st.school_id', school.id)
        .count({ n: '*' })
        .first()
    )?.n ?? 0,
  );
  const day = (await knex('attendance_days').where('school_id', school.id).max({ d: 'day' }).first())?.d as string;
  const students = Number((await knex('students').where('school_id', school.id).count({ n: '*' }).first())?.n ?? 0);
  const cityStudents = Number((await knex('students').count({ n: '*' }).first())?.n ?? 0);
  return {
    schoolId: school.id,
    schoolName: school.name,
    students,
    cityStudents,
    targets: PAGES({
      lastPage: Math.max(1, Math.ceil(subs / PAGE_SIZE)),
      classId: teacher.class_id,
      day,
      month: monthRange(day),
    }),
    cookies: {
      parent: await createSession(knex, parent.id),
      teacher: await createSession(knex, teacher.id),
      school_admin: await createSession(knex, admin.id),
    },
  };
}
