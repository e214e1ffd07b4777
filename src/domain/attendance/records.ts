/**
 * Reading attendance from the database: the computed days (days.ts: 到校時間 / 離校時間 as the rules decided
 * them, the same answer the SMS was sent on) of students over dates. Every query that picks students carries
 * the caller's scope (see scope.ts); these helpers take already-scoped student ids or a scoped subquery.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleClassIds, visibleStudentIds, whereClassVisible, whereStudentVisible, type ClassRef } from '../scope.js';
import { shortDate, weekdayName } from '../time.js';
import { holidaysPart, loadDismissalStarts, loadHolidays } from '../schools/school-calendar.js';
import { dayKey, daysPart, dismissalStartFor, loadDayRecords, loadDays, type StoredDay } from './days.js';
import { both, jsonRows, readFolded, type Folded, type RowOrder } from '../folded.js';
import { cellText, dayDetail, gridDates, type DetailRow, type Shown } from './rules.js';
import { audit, type Actor } from '../audit.js';
import { csvDocument } from '../csv.js';

export interface GridRow {
  date: string;
  /** `星期二 09-04` */
  label: string;
  arrival: string;
  departure: string;
  arrivalManual: boolean;
  departureManual: boolean;
}

const EMPTY: StoredDay = { arrival: undefined, departure: undefined };

export function gridRow(date: string, day: StoredDay | undefined): GridRow {
  const a = day ?? EMPTY;
  return rowOf(date, a.arrival, a.departure);
}

function rowOf(date: string, arrival: Shown | undefined, departure: Shown | undefined): GridRow {
  return {
    date,
    label: `${weekdayName(date)} ${shortDate(date)}`,
    arrival: cellText(arrival),
    departure: cellText(departure),
    arrivalManual: arrival?.manual ?? false,
    departureManual: departure?.manual ?? false,
  };
}

/**
 * The 出勤統計 grid of one student (already known to be visible to the caller) from `from` to `to`: the school
 * days of the student's school plus any day with a record. One part (folded.ts): the student's stored days and
 * the school's holidays, read in one statement alone (`studentGrid`) or beside the other reads of a page.
 */
export function studentGridPart(
  knex: Knex,
  student: { id: number; schoolId: number },
  from: string,
  to: string,
): Folded<GridRow[]> {
  return both(
    knex,
    daysPart(knex, [student.id], from, to),
    holidaysPart(knex, student.schoolId, from, to),
    (book, holidays) => {
      const days = book.get(student.id) ?? new Map<string, StoredDay>();
      return gridDates(from, to, holidays, new Set(days.keys())).map((d) => gridRow(d, days.get(d)));
    },
  );
}

export async function studentGrid(
  knex: Knex,
  student: { id: number; schoolId: number },
  from: string,
  to: string,
): Promise<GridRow[]> {
  return (await readFolded(knex, { grid: studentGridPart(knex, student, from, to) })).grid;
}

export interface DayViewRow extends GridRow {
  studentId: number;
  name: string;
  studentNumber: string;
  seat: number;
  className: string;
  noRecord: boolean;
}

/**
 * A class's day (or a range of days) as staff see it: each student of the class (within the caller's scope),
 * each date, 到校時間 / 離校時間 or 未刷卡. Returns undefined when the class is not visible to the caller.
 */
export async function classDays(
  knex: Knex,
  user: CurrentUser,
  classId: number,
  from: string,
  to: string,
): Promise<{ cls: ClassRef; rows: DayViewRow[]; students: { id: number; name: string; seat: number }[] } | undefined> {
  const c = await knex('classes as c')
    .where('c.id', classId)
    .whereIn('c.id', visibleClassIds(knex, user))
    .first('c.id', 'c.name', 'c.code', 'c.school_year');
  if (!c) return undefined;
  const cls: ClassRef = { id: c.id, name: c.name, code: c.code, schoolYear: c.school_year };
  const students: { id: number; name: string; student_number: string; seat_number: number }[] =
    await whereStudentVisible(knex, knex('students as st').where('st.class_id', classId), user)
      .orderBy(['st.seat_number', 'st.id'])
      .select('st.id', 'st.name', 'st.student_number', 'st.seat_number');
  const book = await loadDays(
    knex,
    students.map((s) => s.id),
    from,
    to,
  );
  // A single day is shown whatever it is; a range lists the school days plus any day with a record.
  let dates: string[];
  if (from === to) dates = [from];
  else {
    const holidays = await loadHolidays(knex, user.schoolId, from, to);
    const withRecords = new Set<string>();
    for (const days of book.values()) for (const d of days.keys()) withRecords.add(d);
    dates = gridDates(from, to, holidays, withRecords);
  }
  const rows: DayViewRow[] = [];
  for (const d of dates) {
    for (const s of students) {
      const a = book.get(s.id)?.get(d) ?? EMPTY;
      rows.push({
        ...rowOf(d, a.arrival, a.departure),
        studentId: s.id,
        name: s.name,
        studentNumber: s.student_number,
        seat: s.seat_number,
        className: cls.name,
        noRecord: !a.arrival && !a.departure,
      });
    }
  }
  return { cls, rows, students: students.map((s) => ({ id: s.id, name: s.name, seat: s.seat_number })) };
}

export interface ClassSummary {
  classId: number;
  name: string;
  total: number;
  arrived: number;
  noRecord: number;
}

/** Newest 學年度 first, then by class code: as the class pickers list them. */
const SUMMARY_ORDER: RowOrder[] = [
  { column: 'c.school_year', order: 'desc' },
  { column: 'c.code', order: 'asc' },
];

/**
 * Today's summary of each class the staff member may see: how many students arrived, how many 未刷卡. One
 * statement: the visible classes (scope in the WHERE; a visible class's students are all visible to its staff)
 * with their students' stored day, counted by PostgreSQL — not every student id sent back and forth.
 *
 * The school office sees the whole school, so it reads the school's students and the school's one day: the
 * students through `students (school_id, class_id, id)` (index only), the day through `attendance_days (school_id,
 * day)` (a stored day's school is its student's) — ≈ 1,500 buffers on the city instead of ≈ 8,000 for a
 * primary-key probe per student. The day is a subquery fenced by OFFSET 0: the planner estimates the
 * class–student join at a few dozen rows (class and school are correlated) and would otherwise probe per student
 * again. A teacher's 30 students are probed one by one (cheaper than the school's day).
 */
function summariesQuery(knex: Knex, user: CurrentUser, date: string): Knex.QueryBuilder {
  const q = whereClassVisible(knex, knex('classes as c'), user).leftJoin('students as st', function () {
    this.on('st.class_id', 'c.id').andOnVal('st.school_id', user.schoolId);
  });
  if (user.role === 'school_admin')
    // (Knex leaves out an OFFSET 0, hence the SQL by hand.)
    q.joinRaw(
      `left join (select d.student_id, d.arrival_time, d.departure_time from attendance_days d
                   where d.school_id = ? and d.day = ? offset 0) as ad on ad.student_id = st.id`,
      [user.schoolId, date],
    );
  else
    q.leftJoin('attendance_days as ad', function () {
      this.on('ad.student_id', 'st.id').andOnVal('ad.day', date);
    });
  return q
    .where('c.school_id', user.schoolId)
    .groupBy('c.id')
    .orderBy(SUMMARY_ORDER)
    .select(
      'c.id',
      'c.name',
      'c.school_year',
      'c.code',
      knex.raw('count(st.id)::int as total'),
      knex.raw('count(ad.arrival_time)::int as arrived'),
      knex.raw('(count(st.id) filter (where ad.arrival_time is null and ad.departure_time is null))::int as no_record'),
    );
}

const toSummary = (r: { id: number; name: string; total: number; arrived: number; no_record: number }) => ({
  classId: r.id,
  name: r.name,
  total: r.total,
  arrived: r.arrived,
  noRecord: r.no_record,
});

export async function classSummaries(knex: Knex, user: CurrentUser, date: string): Promise<ClassSummary[]> {
  return (await summariesQuery(knex, user, date)).map(toSummary);
}

/** `classSummaries` as a part of a folded statement (folded.ts): the same query, its rows as JSON. */
export function classSummariesPart(knex: Knex, user: CurrentUser, date: string): Folded<ClassSummary[]> {
  return {
    sql: jsonRows(knex, summariesQuery(knex, user, date), SUMMARY_ORDER),
    read: (v) => (v as Parameters<typeof toSummary>[0][]).map(toSummary),
  };
}

/** A student the user may see (scope in the WHERE), with the school id; undefined = 404. */
export async function visibleStudent(
  knex: Knex,
  user: CurrentUser,
  studentId: number,
): Promise<{ id: number; schoolId: number; name: string } | undefined> {
  const row = await knex('students as st')
    .where('st.id', studentId)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .first('st.id', 'st.school_id', 'st.name');
  return row ? { id: row.id, schoolId: row.school_id, name: row.name } : undefined;
}

/**
 * The day's detail of students already known to be visible to the caller (e.g. `classDays(…).students`, whose
 * query carries the scope): every swipe (time, reader name and direction) and every 補登 of the date, each with
 * its role (到校 / 離校 / kept). studentId → rows; a student with no record is absent.
 */
export async function dayDetails(
  knex: Knex,
  schoolId: number,
  studentIds: readonly number[],
  date: string,
  o: { departureMinMinutes: number },
): Promise<Map<number, DetailRow[]>> {
  const out = new Map<number, DetailRow[]>();
  if (studentIds.length === 0) return out;
  const [records, starts] = await Promise.all([
    loadDayRecords(
      knex,
      studentIds.map((studentId) => ({ studentId, date })),
    ),
    loadDismissalStarts(knex, [schoolId]),
  ]);
  for (const id of studentIds) {
    const day = records.get(dayKey(id, date));
    // The settings the stored day was decided with (days.ts), so the detail marks the same 到校 / 離校.
    if (day)
      out.set(
        id,
        dayDetail(day, {
          departureMinMinutes: o.departureMinMinutes,
          dismissalStart: dismissalStartFor(day, starts.get(schoolId), date),
        }),
      );
  }
  return out;
}

/**
 * 匯出 CSV: a class's days from `from` to `to` (within the user's scope; undefined when the class is not visible),
 * one line per student-day, audited as `attendance.export` (who took which class's attendance out of the portal).
 */
export async function exportClassDays(
  knex: Knex,
  user: CurrentUser,
  actor: Actor,
  classId: number,
  from: string,
  to: string,
): Promise<{ filename: string; body: string } | undefined> {
  const view = await classDays(knex, user, classId, from, to);
  if (!view) return undefined;
  const header = ['日期', '星期', '班級', '座號', '學號', '姓名', '到校時間', '離校時間'];
  const line = (r: DayViewRow) => [
    r.date,
    r.label.split(' ')[0] ?? '',
    r.className,
    r.seat,
    r.studentNumber,
    r.name,
    r.arrival,
    r.departure,
  ];
  const body = csvDocument([header, ...view.rows.map(line)], { quoteAll: true });
  await audit(knex, actor, {
    action: 'attendance.export',
    targetType: 'class',
    targetId: view.cls.id,
    details: { from, to, rows: view.rows.length },
  });
  return { filename: `attendance-${view.cls.id}-${from}_${to}.csv`, body };
}
