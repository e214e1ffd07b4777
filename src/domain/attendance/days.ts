/**
 * The computed day of each student (`attendance_days`): 到校時間 and 離校時間 as the rules (rules.ts) decide
 * them, stored so that the SMS, the grid, the teacher's day view and the reports read ONE answer, and so that a
 * page costs what its students' days cost, not their raw swipes.
 *
 * Every writer of a record — the reader API, 補登 (added, corrected, deleted), an unmatched swipe resolved to a
 * student — calls `refreshDays` for the student-days it touched, inside its own transaction. A row exists for
 * every student-day with at least one record. The same statement pair keeps the school's daily attendance
 * figures (reports/daily-figures.ts) in step with the stored days.
 *
 * A day is decided with the settings of its records' time: each swipe keeps the direction its reader had when it
 * was stored (`swipes.reader_direction`), and a stored day that has a departure keeps the dismissal start it was
 * computed with (`attendance_days.dismissal_start`). So when the school office changes a weekday's dismissal
 * start or a reader's direction, the change applies to the swipes recorded from then on, and a departure already
 * sent by SMS stays what every page shows — also when a later swipe or a 補登 recomputes that day.
 */
import type { Knex } from 'knex';
import { jsonRows, known, type Folded } from '../folded.js';
import { dismissalStartOn, loadDismissalStarts, type DismissalStarts } from '../schools/school-calendar.js';
import { countDayChanges, type DayChange } from '../reports/daily-figures.js';
import {
  computeDay,
  type DayAttendance,
  type DayRecords,
  type Direction,
  type ReaderDirection,
  type Shown,
} from './rules.js';

type Db = Knex | Knex.Transaction;

export interface DayKey {
  studentId: number;
  /** Asia/Taipei date, YYYY-MM-DD. */
  date: string;
}

export const dayKey = (studentId: number, date: string): string => `${studentId}:${date}`;

export interface RefreshedDay {
  studentId: number;
  date: string;
  schoolId: number;
  records: DayRecords;
  attendance: DayAttendance;
}

/** A day's records as stored, with the dismissal start its stored departure was decided with. */
export interface LoadedDay extends DayRecords {
  /** `HH:mm`: set when the stored day has a departure computed with a recorded dismissal start. */
  decidedWith?: string | undefined;
}

/**
 * The dismissal start a day is computed with: the one its stored departure was decided with, else the school's
 * for that weekday (school-calendar.ts). refreshDays and the day's detail both ask here, so they agree.
 */
export function dismissalStartFor(day: LoadedDay, starts: DismissalStarts | undefined, date: string): string {
  return day.decidedWith ?? dismissalStartOn(starts, date);
}

/**
 * The raw records (swipes with the direction of their reader when stored, manual entries) of the given
 * student-days, with the dismissal start each stored departure was decided with. `firstFill`: only for the
 * migration that first filled attendance_days, before those two columns existed (its swipes follow their
 * reader's direction of then).
 */
export async function loadDayRecords(
  knex: Db,
  keys: readonly DayKey[],
  o: { firstFill?: boolean } = {},
): Promise<Map<string, LoadedDay>> {
  const out = new Map<string, LoadedDay>();
  if (keys.length === 0) return out;
  const ids = keys.map((k) => k.studentId);
  const dates = keys.map((k) => k.date);
  const swipes = (
    await knex.raw<{
      rows: {
        id: number;
        student_id: number;
        swipe_date: string;
        swiped_at: Date;
        direction: ReaderDirection;
        reader_name: string;
      }[];
    }>(
      `select s.id, s.student_id, s.swipe_date, s.swiped_at,
              ${o.firstFill ? 'r.direction' : 'coalesce(s.reader_direction, r.direction) as direction'},
              r.name as reader_name
         from unnest(?::int[], ?::date[]) as k(student_id, day)
         join swipes s on s.student_id = k.student_id and s.swipe_date = k.day
         join card_readers r on r.id = s.reader_id`,
      [ids, dates],
    )
  ).rows;
  const at = (sid: number, d: string) => {
    const key = dayKey(sid, d);
    let day = out.get(key);
    if (!day) out.set(key, (day = { swipes: [], manual: [] }));
    return day;
  };
  for (const s of swipes)
    at(s.student_id, s.swipe_date).swipes.push({
      id: Number(s.id),
      at: new Date(s.swiped_at),
      reader: s.direction,
      readerName: s.reader_name,
    });
  // The manual entries, and (one statement still) the dismissal start of each stored day that has a departure.
  const manual = (
    await knex.raw<{
      rows: {
        id: number | null;
        student_id: number;
        day: string;
        direction: Direction | null;
        entry_time: string | null;
        decided_with: string | null;
      }[];
    }>(
      o.firstFill
        ? `select m.id, m.student_id, m.entry_date as day, m.direction, m.entry_time, null as decided_with
             from unnest(?::int[], ?::date[]) as k(student_id, day)
             join manual_entries m on m.student_id = k.student_id and m.entry_date = k.day`
        : `select m.id, k.student_id, k.day, m.direction, m.entry_time, a.dismissal_start as decided_with
             from unnest(?::int[], ?::date[]) as k(student_id, day)
             left join manual_entries m on m.student_id = k.student_id and m.entry_date = k.day
             left join attendance_days a on a.student_id = k.student_id and a.day = k.day
                                        and a.departure_time is not null
            where m.id is not null or a.dismissal_start is not null`,
      [ids, dates],
    )
  ).rows;
  const decided = new Map<string, string>();
  for (const m of manual) {
    if (m.decided_with !== null) decided.set(dayKey(m.student_id, m.day), m.decided_with);
    if (m.id !== null) at(m.student_id, m.day).manual.push({ id: m.id, direction: m.direction!, time: m.entry_time! });
  }
  // Only a day that still has records is one (a day whose last record went is removed by refreshDays).
  for (const [key, start] of decided) {
    const day = out.get(key);
    if (day) day.decidedWith = start;
  }
  return out;
}

/**
 * Lock students for a change of their records (FOR NO KEY UPDATE, in id order so two writers never deadlock) and
 * return each one's school. Held until the transaction ends; a writer of the same student waits, then reads what
 * this one committed. Taking the lock before inserting rows that reference the students also spares each
 * foreign-key check its own row lock (it finds the stronger lock already held).
 */
export async function lockStudents(knex: Db, studentIds: readonly number[]): Promise<Map<number, number>> {
  if (studentIds.length === 0) return new Map();
  const rows = (
    await knex.raw<{ rows: { id: number; school_id: number }[] }>(
      'select id, school_id from students where id = any(?::int[]) order by id for no key update',
      [[...new Set(studentIds)]] as unknown as readonly Knex.RawBinding[],
    )
  ).rows;
  return new Map(rows.map((s) => [s.id, s.school_id]));
}

/**
 * Recompute the given student-days from their records and store them (a day with no record left is removed).
 * Returns what was computed, keyed by `dayKey`. Call it inside the transaction that changed the records: it
 * locks the students first, so concurrent writers of one student's day are applied one after the other.
 */
export async function refreshDays(
  knex: Db,
  keys: readonly DayKey[],
  o: {
    departureMinMinutes: number;
    /**
     * Only for the migration that first filled attendance_days, with the tables of then: before the figure tables
     * (rebuilt later) and the columns that keep the settings a day was decided with existed.
     */
    withoutFigures?: boolean;
    /** The students' schools from lockStudents, when the caller locked them earlier in this transaction. */
    locked?: ReadonlyMap<number, number>;
  },
): Promise<Map<string, RefreshedDay>> {
  const unique = new Map<string, DayKey>();
  for (const k of keys) unique.set(dayKey(k.studentId, k.date), k);
  const out = new Map<string, RefreshedDay>();
  if (unique.size === 0) return out;
  const list = [...unique.values()];
  // Every writer of a student's records recomputes under a lock on the student (taken in id order, so two
  // batches never deadlock): the next writer waits, then reads what this one committed. A caller that took the
  // locks already, earlier in this transaction (lockStudents), passes what it got.
  const ids = [...new Set(list.map((k) => k.studentId))];
  const schoolOf = o.locked && ids.every((id) => o.locked!.has(id)) ? o.locked : await lockStudents(knex, ids);
  const starts = await loadDismissalStarts(knex, [
    ...new Set(ids.map((id) => schoolOf.get(id)).filter((s) => s !== undefined)),
  ]);
  const firstFill = o.withoutFigures === true;
  const records = await loadDayRecords(knex, list, { firstFill });

  const upserts: {
    student_id: number;
    day: string;
    school_id: number;
    arrival_time: string | null;
    arrival_manual: boolean;
    departure_time: string | null;
    departure_manual: boolean;
    dismissal_start: string;
  }[] = [];
  const gone: DayKey[] = [];
  for (const [key, k] of unique) {
    const schoolId = schoolOf.get(k.studentId);
    if (schoolId === undefined) continue;
    const day = records.get(key);
    if (!day) {
      gone.push(k);
      continue;
    }
    const dismissalStart = dismissalStartFor(day, starts.get(schoolId), k.date);
    const attendance = computeDay(day, { departureMinMinutes: o.departureMinMinutes, dismissalStart });
    out.set(key, { ...k, schoolId, records: day, attendance });
    upserts.push({
      student_id: k.studentId,
      day: k.date,
      school_id: schoolId,
      arrival_time: attendance.arrival?.time ?? null,
      arrival_manual: attendance.arrival?.manual ?? false,
      departure_time: attendance.departure?.time ?? null,
      departure_manual: attendance.departure?.manual ?? false,
      dismissal_start: dismissalStart,
    });
  }
  // What each stored day was before (the figures count the change): read by the upsert itself (a WITH sees the
  // table as it was when the statement began), so a batch still costs one statement here.
  const changes: DayChange[] = [];
  if (upserts.length > 0) {
    // One statement whatever the number of days (the reader API's batch of 500 is one round trip). The dismissal
    // start each day was computed with is stored with it (not by the migration that first filled the table).
    const kept = firstFill
      ? { types: '', column: '', update: '' }
      : { types: ', ?::text[]', column: ', dismissal_start', update: ', dismissal_start = excluded.dismissal_start' };
    const before = (
      await knex.raw<{
        rows: { student_id: number; day: string; school_id: number; arrived: boolean; departed: boolean }[];
      }>(
        `with k as (
           select * from unnest(?::int[], ?::date[], ?::int[], ?::text[], ?::bool[], ?::text[], ?::bool[]${kept.types})
             as k(student_id, day, school_id, arrival_time, arrival_manual, departure_time, departure_manual${kept.column})),
         old as (
           select a.student_id, a.day, a.school_id, a.arrival_time is not null as arrived, a.departure_time is not null as departed
             from attendance_days a join k on a.student_id = k.student_id and a.day = k.day),
         up as (
           insert into attendance_days (student_id, day, school_id, arrival_time, arrival_manual, departure_time, departure_manual${kept.column})
           select * from k
           on conflict (student_id, day) do update set
             school_id = excluded.school_id, arrival_time = excluded.arrival_time, arrival_manual = excluded.arrival_manual,
             departure_time = excluded.departure_time, departure_manual = excluded.departure_manual${kept.update}
           returning 1)
         select * from old`,
        [
          upserts.map((u) => u.student_id),
          upserts.map((u) => u.day),
          upserts.map((u) => u.school_id),
          upserts.map((u) => u.arrival_time),
          upserts.map((u) => u.arrival_manual),
          upserts.map((u) => u.departure_time),
          upserts.map((u) => u.departure_manual),
          ...(firstFill ? [] : [upserts.map((u) => u.dismissal_start)]),
        ] as unknown as readonly Knex.RawBinding[],
      )
    ).rows;
    const was = new Map(before.map((b) => [dayKey(b.student_id, b.day), b]));
    for (const u of upserts) {
      const b = was.get(dayKey(u.student_id, u.day));
      if (b && b.school_id !== u.school_id) changes.push({ schoolId: b.school_id, day: u.day, before: b, after: null });
      changes.push({
        schoolId: u.school_id,
        day: u.day,
        before: b && b.school_id === u.school_id ? b : null,
        after: { arrived: u.arrival_time !== null, departed: u.departure_time !== null },
      });
    }
  }
  if (gone.length > 0) {
    const removed = (
      await knex.raw<{ rows: { day: string; school_id: number; arrived: boolean; departed: boolean }[] }>(
        `delete from attendance_days a using unnest(?::int[], ?::date[]) as k(student_id, day)
          where a.student_id = k.student_id and a.day = k.day
          returning a.day, a.school_id, a.arrival_time is not null as arrived, a.departure_time is not null as departed`,
        [gone.map((k) => k.studentId), gone.map((k) => k.date)],
      )
    ).rows;
    for (const r of removed) changes.push({ schoolId: r.school_id, day: r.day, before: r, after: null });
  }
  // The school's daily figures, in this transaction (daily-figures.ts): the last statement on them here.
  if (!o.withoutFigures) await countDayChanges(knex, changes);
  return out;
}

/** A stored day as the pages show it. */
export interface StoredDay {
  arrival: Shown | undefined;
  departure: Shown | undefined;
}

const shown = (time: string | null, manual: boolean): Shown | undefined =>
  time === null ? undefined : { time, manual, second: Number(time.slice(0, 2)) * 3600 + Number(time.slice(3, 5)) * 60 };

/** studentId → date → the stored day. */
export type DayBook = Map<number, Map<string, StoredDay>>;

interface StoredDayRow {
  student_id: number;
  day: string;
  arrival_time: string | null;
  arrival_manual: boolean;
  departure_time: string | null;
  departure_manual: boolean;
}

/** The stored days of these students (ids or an already-scoped subquery) from `from` to `to` inclusive: the query. */
function daysQuery(
  knex: Db,
  studentIds: readonly number[] | Knex.QueryBuilder,
  from: string,
  to: string,
): Knex.QueryBuilder {
  return knex('attendance_days')
    .whereIn('student_id', studentIds as number[] | Knex.QueryBuilder)
    .whereBetween('day', [from, to])
    .select('student_id', 'day', 'arrival_time', 'arrival_manual', 'departure_time', 'departure_manual');
}

function bookOf(rows: readonly StoredDayRow[]): DayBook {
  const book: DayBook = new Map();
  for (const r of rows) {
    let days = book.get(r.student_id);
    if (!days) book.set(r.student_id, (days = new Map()));
    days.set(r.day, {
      arrival: shown(r.arrival_time, r.arrival_manual),
      departure: shown(r.departure_time, r.departure_manual),
    });
  }
  return book;
}

/** The stored days of these students (ids or an already-scoped subquery) from `from` to `to` inclusive. */
export async function loadDays(
  knex: Db,
  studentIds: readonly number[] | Knex.QueryBuilder,
  from: string,
  to: string,
): Promise<DayBook> {
  if (Array.isArray(studentIds) && studentIds.length === 0) return new Map();
  return bookOf(await daysQuery(knex, studentIds, from, to));
}

/** `loadDays` as a part of a folded statement (folded.ts): the same query, its rows as JSON. */
export function daysPart(knex: Knex, studentIds: readonly number[], from: string, to: string): Folded<DayBook> {
  if (studentIds.length === 0) return known(new Map());
  return { sql: jsonRows(knex, daysQuery(knex, studentIds, from, to)), read: (v) => bookOf(v as StoredDayRow[]) };
}
