/**
 * Reminders on 首頁: the requests that wait for review, with their age in school days (counted with the school
 * calendar: weekdays that are not holidays of the school, after the day of the request up to today). A request
 * that has waited longer than REVIEW_OVERDUE_SCHOOL_DAYS is overdue: the teacher sees it first, in red; the school
 * office sees the same per class, with the classes that have no (active) teacher marked.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { classIdsWithoutTeacher } from '../schools/class-teachers.js';
import { loadHolidays, schoolDaysAfter } from '../schools/school-calendar.js';
import { visibleSchoolIds, visibleStudentIds } from '../scope.js';

/** Longer than this many school days is overdue. */
export const REVIEW_OVERDUE_SCHOOL_DAYS = 2;
/** The teacher's list on 首頁 shows at most this many requests (all of them are on 審核). */
export const REMINDER_LIMIT = 30;

export interface WaitingRequest {
  requestId: number;
  subscriptionId: number;
  kind: 'order' | 'cancellation';
  requestedOn: string;
  studentName: string;
  seat: number;
  classId: number;
  className: string;
  ageSchoolDays: number;
  overdue: boolean;
}

export interface ClassReminder {
  classId: number;
  className: string;
  waiting: number;
  overdue: number;
  oldestSchoolDays: number;
  noTeacher: boolean;
}

export interface ReviewReminders {
  total: number;
  overdue: number;
  /** Teacher: the waiting requests, overdue (oldest) first. */
  requests: WaitingRequest[];
  /** School admin: the classes with waiting requests, those with overdue requests first. */
  classes: ClassReminder[];
}

async function ageOf(knex: Knex, schoolId: number, dates: string[], today: string): Promise<(d: string) => number> {
  if (dates.length === 0) return () => 0;
  const oldest = dates.reduce((a, b) => (a < b ? a : b));
  const holidays = await loadHolidays(knex, schoolId, oldest, today);
  const memo = new Map<string, number>();
  return (d) => {
    let n = memo.get(d);
    if (n === undefined) memo.set(d, (n = schoolDaysAfter(d, today, holidays)));
    return n;
  };
}

export async function reviewReminders(
  knex: Knex,
  user: CurrentUser,
  today: string,
): Promise<ReviewReminders | undefined> {
  if (user.role === 'parent') return undefined;
  const pending = () =>
    knex('review_requests as r')
      .join('subscriptions as s', 's.id', 'r.subscription_id')
      .join('students as st', 'st.id', 's.student_id')
      .join('classes as c', 'c.id', 'st.class_id')
      .where('r.status', 'pending')
      .whereIn('s.school_id', visibleSchoolIds(user))
      .whereIn('s.student_id', visibleStudentIds(knex, user));

  if (user.role === 'teacher') {
    const rows = (await pending()
      .orderBy([{ column: 'r.requested_on' }, { column: 'r.id' }])
      .limit(REMINDER_LIMIT)
      .select(
        'r.id',
        's.id as subscription_id',
        'r.kind',
        'r.requested_on',
        'st.name',
        'st.seat_number',
        'c.id as class_id',
        'c.name as class_name',
      )) as {
      id: number;
      subscription_id: number;
      kind: 'order' | 'cancellation';
      requested_on: string;
      name: string;
      seat_number: number;
      class_id: number;
      class_name: string;
    }[];
    const total = Number((await pending().count({ n: '*' }).first())?.n ?? 0);
    const age = await ageOf(
      knex,
      user.schoolId,
      rows.map((r) => r.requested_on),
      today,
    );
    const requests = rows.map((r) => {
      const a = age(r.requested_on);
      return {
        requestId: r.id,
        subscriptionId: r.subscription_id,
        kind: r.kind,
        requestedOn: r.requested_on,
        studentName: r.name,
        seat: r.seat_number,
        classId: r.class_id,
        className: r.class_name,
        ageSchoolDays: a,
        overdue: a > REVIEW_OVERDUE_SCHOOL_DAYS,
      };
    });
    // Oldest first already; ties stay in request order.
    return { total, overdue: requests.filter((r) => r.overdue).length, requests, classes: [] };
  }

  // School office: one row per class and request day, counted in SQL; ages from the calendar.
  const groups = (await pending()
    .groupBy('c.id', 'c.name', 'c.code', 'r.requested_on')
    .select(
      'c.id as class_id',
      'c.name as class_name',
      'c.code',
      'r.requested_on',
      knex.raw('count(*)::int as n'),
    )) as {
    class_id: number;
    class_name: string;
    code: string;
    requested_on: string;
    n: number;
  }[];
  const age = await ageOf(
    knex,
    user.schoolId,
    groups.map((g) => g.requested_on),
    today,
  );
  const noTeacher = await classIdsWithoutTeacher(
    knex,
    groups.map((g) => g.class_id),
  );
  const byClass = new Map<number, ClassReminder & { code: string }>();
  for (const g of groups) {
    let c = byClass.get(g.class_id);
    if (!c) {
      c = {
        classId: g.class_id,
        className: g.class_name,
        code: g.code,
        waiting: 0,
        overdue: 0,
        oldestSchoolDays: 0,
        noTeacher: noTeacher.has(g.class_id),
      };
      byClass.set(g.class_id, c);
    }
    const a = age(g.requested_on);
    c.waiting += g.n;
    if (a > REVIEW_OVERDUE_SCHOOL_DAYS) c.overdue += g.n;
    c.oldestSchoolDays = Math.max(c.oldestSchoolDays, a);
  }
  const classes = [...byClass.values()]
    .sort(
      (a, b) =>
        Number(b.overdue > 0) - Number(a.overdue > 0) ||
        b.oldestSchoolDays - a.oldestSchoolDays ||
        a.code.localeCompare(b.code, 'en', { numeric: true }),
    )
    .map(({ code: _code, ...c }) => c);
  return {
    total: classes.reduce((n, c) => n + c.waiting, 0),
    overdue: classes.reduce((n, c) => n + c.overdue, 0),
    requests: [],
    classes,
  };
}

/**
 * School office: the classes of its school with requests waiting for review and no active teacher (導師 or
 * 副導師), so that 審核 can flag them and their requests are never stranded. Empty for a teacher.
 */
export async function waitingClassesWithoutTeacher(
  knex: Knex,
  user: CurrentUser,
): Promise<{ id: number; name: string }[]> {
  if (user.role !== 'school_admin') return [];
  const waiting = (await knex('review_requests as r')
    .join('subscriptions as s', 's.id', 'r.subscription_id')
    .join('students as st', 'st.id', 's.student_id')
    .join('classes as c', 'c.id', 'st.class_id')
    .where('r.status', 'pending')
    .whereIn('s.school_id', visibleSchoolIds(user))
    .whereIn('s.student_id', visibleStudentIds(knex, user))
    .groupBy('c.id', 'c.name', 'c.school_year', 'c.code')
    .orderBy(['c.school_year', 'c.code'])
    .select('c.id', 'c.name')) as { id: number; name: string }[];
  const without = await classIdsWithoutTeacher(
    knex,
    waiting.map((c) => c.id),
  );
  return waiting.filter((c) => without.has(c.id));
}
