/**
 * Reading attendance from the database: the computed days (days.ts: 到校時間 / 離校時間 as the rules decided
 * them, the same answer the SMS was sent on) of students over dates. Every query that picks students carries
 * the caller's scope (see scope.ts); these helpers take already-scoped student ids or a scoped subquery.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { myClasses, visibleClassIds, visibleStudentIds, type ClassRef } from '../scope.js';
import { shortDate, weekdayName } from '../time.js';
import { dismissalStartOn, loadDismissalStarts, loadHolidays } from '../schools/school-calendar.js';
import { dayKey, loadDayRecords, loadDays, type StoredDay } from './days.js';
import { cellText, dayDetail, gridDates, type DetailRow, type Shown } from './rules.js';


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
 * days of the student's school plus any day with a record.
 */
export async function studentGrid(
  knex: Knex,
  student: { id: number; schoolId: number },
  from: string,
  to: string,
): Promise<GridRow[]> {
  const [book, holidays] = await Promise.all([
    loadDays(knex, [student.id], from, to),
    loadHolidays(knex, student.schoolId, from, to),
  ]);
  const days = book.get(student.id) ?? new Map<string, StoredDay>();
  return gridDates(from, to, holidays, new Set(days.keys())).map((d) => gridRow(d, days.get(d)));
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
  const students: { id: number; name: string; student_number: string; seat_number: number }[] = await knex('students as st')
    .where('st.class_id', classId)
    .whereIn('st.id', visibleStudentIds(knex, user))
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

/** Today's summary of each class the staff member may see: how many students arrived, how many 未刷卡. */
export async function classSummaries(knex: Knex, user: CurrentUser, date: string): Promise<ClassSummary[]> {
  const classes = await myClasses(knex, user);
  if (classes.length === 0) return [];
  const students: { id: number; class_id: number }[] = await knex('students as st')
    .whereIn(
      'st.class_id',
      classes.map((c) => c.id),
    )
    .whereIn('st.id', visibleStudentIds(knex, user))
    .select('st.id', 'st.class_id');
  const book = await loadDays(
    knex,
    students.map((s) => s.id),
    date,
    date,
  );
  const out = new Map<number, ClassSummary>(
    classes.map((c) => [c.id, { classId: c.id, name: c.name, total: 0, arrived: 0, noRecord: 0 }]),
  );
  for (const s of students) {
    const sum = out.get(s.class_id);
    if (!sum) continue;
    const a = book.get(s.id)?.get(date) ?? EMPTY;
    sum.total += 1;
    if (a.arrival) sum.arrived += 1;
    if (!a.arrival && !a.departure) sum.noRecord += 1;
  }
  return [...out.values()];
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
  const rule = { departureMinMinutes: o.departureMinMinutes, dismissalStart: dismissalStartOn(starts.get(schoolId), date) };
  for (const id of studentIds) {
    const day = records.get(dayKey(id, date));
    if (day) out.set(id, dayDetail(day, rule));
  }
  return out;
}
