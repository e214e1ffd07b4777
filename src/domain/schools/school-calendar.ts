/**
 * A school's calendar as the attendance rules need it: its holidays (days it is closed; they leave the grid and
 * every count of school days) and its dismissal start per weekday (a swipe at a `both` reader counts as a
 * departure only from then on). Holidays are kept as named ranges, each expanded into one `school_holidays`
 * row per day.
 */
import type { Knex } from 'knex';
import { jsonRows, type Folded } from '../folded.js';
import { DEFAULT_DISMISSAL_START } from '../attendance/rules.js';
import { addDays, daysBetween, isSchoolDay, isWeekend, weekdayOf } from '../time.js';
import { audit, type Actor } from '../audit.js';

type Db = Knex | Knex.Transaction;

function holidaysQuery(knex: Db, schoolId: number, from: string, to: string): Knex.QueryBuilder {
  return knex('school_holidays')
    .where('school_id', schoolId)
    .whereBetween('holiday_on', [from, to])
    .select('holiday_on');
}

const holidaySet = (rows: readonly { holiday_on: string }[]): Set<string> => new Set(rows.map((r) => r.holiday_on));

/** The school's holidays between two dates (inclusive). */
export async function loadHolidays(knex: Db, schoolId: number, from: string, to: string): Promise<Set<string>> {
  return holidaySet(await holidaysQuery(knex, schoolId, from, to));
}

/** `loadHolidays` as a part of a folded statement (folded.ts): the same query, its rows as JSON. */
export function holidaysPart(knex: Knex, schoolId: number, from: string, to: string): Folded<Set<string>> {
  return {
    sql: jsonRows(knex, holidaysQuery(knex, schoolId, from, to)),
    read: (v) => holidaySet(v as { holiday_on: string }[]),
  };
}

export { isSchoolDay };

/** How many school days lie between two dates (both included); 0 when `to` is before `from`. */
export function countSchoolDays(from: string, to: string, holidays: ReadonlySet<string>): number {
  if (to < from) return 0;
  // The weekdays of the range by arithmetic (the fee of every row of a list asks for a period's ~100 school days:
  // a loop over the dates was a fifth of the 訂購服務 page's CPU), less the holidays that fall on them.
  let n = weekdaysThrough(dayNumber(to)) - weekdaysThrough(dayNumber(from) - 1);
  for (const h of holidays) if (h >= from && h <= to && !isWeekend(h)) n--;
  return n;
}

/** Days since 1970-01-01 (time.ts's daysBetween); what is not a date is refused. */
function dayNumber(date: string): number {
  const n = daysBetween('1970-01-01', date);
  if (Number.isNaN(n)) throw new RangeError(`not a date: ${date}`);
  return n;
}

/** Weekdays from 1970-01-01 (a Thursday, day 0) through day `n`, both included. */
function weekdaysThrough(n: number): number {
  const days = n + 1;
  const weeks = Math.floor(days / 7);
  // The first r days of a week that starts on a Thursday: Thu, Fri, Sat, Sun, Mon, Tue.
  return weeks * 5 + [0, 1, 2, 2, 2, 3, 4][days - weeks * 7]!;
}

/** The school days after `after` up to and including `through` (0 when `through` is not after `after`). */
export function schoolDaysAfter(after: string, through: string, holidays: ReadonlySet<string>): number {
  return countSchoolDays(addDays(after, 1), through, holidays);
}

/** The name of the school's holiday on a date, if it is one. */
export async function holidayOn(knex: Db, schoolId: number, date: string): Promise<string | undefined> {
  const row = await knex('school_holidays').where({ school_id: schoolId, holiday_on: date }).first('name');
  return row?.name as string | undefined;
}

/** weekday (1 = Monday … 5 = Friday) → `HH:mm`, for the weekdays a school has set. */
export type DismissalStarts = ReadonlyMap<number, string>;

/** The dismissal starts the schools have set: schoolId → weekday → `HH:mm`. */
export async function loadDismissalStarts(
  knex: Db,
  schoolIds: readonly number[],
): Promise<Map<number, Map<number, string>>> {
  const out = new Map<number, Map<number, string>>();
  if (schoolIds.length === 0) return out;
  const rows: { school_id: number; weekday: number; starts_at: string }[] = await knex('school_dismissal_times')
    .whereIn('school_id', [...new Set(schoolIds)])
    .select('school_id', 'weekday', 'starts_at');
  for (const r of rows) {
    let m = out.get(r.school_id);
    if (!m) out.set(r.school_id, (m = new Map()));
    m.set(Number(r.weekday), r.starts_at);
  }
  return out;
}

/** The dismissal start on a date: the school's own for that weekday, else the default (11:30). */
export function dismissalStartOn(starts: DismissalStarts | undefined, date: string): string {
  return starts?.get(weekdayOf(date)) ?? DEFAULT_DISMISSAL_START;
}

/** A refused change of the calendar, in words for the school office. */
export class CalendarError extends Error {
  /** The form field the message belongs to (`to` for the dates of a range), if any. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CalendarError';
  }
}

export interface HolidayRange {
  id: number;
  schoolId: number;
  from: string;
  to: string;
  name: string;
}

/** The longest range one holiday may cover (a school year). */
export const MAX_HOLIDAY_DAYS = 366;

/**
 * Add a holiday (a single day when `from` = `to`) or a named range such as 寒假 to one or more schools, in one
 * transaction. A range with exactly the same dates is renamed; one that overlaps another range of the school
 * is refused (nothing is written). Returns how many ranges were created and renamed.
 */
export async function addHolidayRange(
  knex: Knex,
  o: { schoolIds: readonly number[]; from: string; to: string; name: string; byAccountId?: number | null },
  actor: Actor,
): Promise<{ created: number; renamed: number; rangeIds: number[] }> {
  if (o.to < o.from) throw new CalendarError('結束日期不可早於開始日期', 'to');
  const days = Math.round((Date.parse(`${o.to}T00:00:00Z`) - Date.parse(`${o.from}T00:00:00Z`)) / 86_400_000) + 1;
  if (days > MAX_HOLIDAY_DAYS) throw new CalendarError(`一個假期最多 ${MAX_HOLIDAY_DAYS} 天（不可超過一個學年）`, 'to');
  const schoolIds = [...new Set(o.schoolIds)];
  if (schoolIds.length === 0) return { created: 0, renamed: 0, rangeIds: [] };
  return knex.transaction(async (trx) => {
    const overlapping: { id: number; school_id: number; starts_on: string; ends_on: string; name: string }[] =
      await trx('school_holiday_ranges')
        .whereIn('school_id', schoolIds)
        .where('starts_on', '<=', o.to)
        .where('ends_on', '>=', o.from)
        .forUpdate()
        .select('id', 'school_id', 'starts_on', 'ends_on', 'name');
    const same = overlapping.filter((r) => r.starts_on === o.from && r.ends_on === o.to);
    const clash = overlapping.find((r) => !(r.starts_on === o.from && r.ends_on === o.to));
    if (clash) {
      const when = clash.starts_on === clash.ends_on ? clash.starts_on : `${clash.starts_on}~${clash.ends_on}`;
      throw new CalendarError(`與已有的假日「${clash.name} ${when}」重疊，請先刪除或改用其他日期`);
    }
    if (same.length > 0) {
      await trx('school_holiday_ranges')
        .whereIn(
          'id',
          same.map((r) => r.id),
        )
        .update({ name: o.name });
      await trx('school_holidays')
        .whereIn(
          'range_id',
          same.map((r) => r.id),
        )
        .update({ name: o.name });
    }
    const taken = new Set(same.map((r) => r.school_id));
    const fresh = schoolIds.filter((id) => !taken.has(id));
    const rangeIds = same.map((r) => r.id);
    for (let i = 0; i < fresh.length; i += 500) {
      const made = (
        await trx.raw<{ rows: { id: number }[] }>(
          `with r as (
             insert into school_holiday_ranges (school_id, starts_on, ends_on, name, created_by_account_id)
             select s, ?::date, ?::date, ?, ? from unnest(?::int[]) as s returning id, school_id, starts_on, ends_on, name),
           d as (
             insert into school_holidays (school_id, holiday_on, name, range_id)
             select r.school_id, g::date, r.name, r.id from r, generate_series(r.starts_on, r.ends_on, interval '1 day') g)
           select id from r`,
          [o.from, o.to, o.name, o.byAccountId ?? null, fresh.slice(i, i + 500)],
        )
      ).rows;
      rangeIds.push(...made.map((r) => r.id));
    }
    await audit(trx, actor, {
      action: 'holiday.added',
      schoolId: schoolIds.length === 1 ? schoolIds[0] : null,
      targetType: 'school_holiday_range',
      targetId: rangeIds.length === 1 ? rangeIds[0]! : rangeIds.join(','),
      details: {
        from: o.from,
        to: o.to,
        name: o.name,
        schools: schoolIds.length,
        created: fresh.length,
        renamed: same.length,
      },
    });
    return { created: fresh.length, renamed: same.length, rangeIds };
  });
}

/** The school's holiday ranges that end on or after `from`, by start date. */
export async function holidayRanges(knex: Db, schoolId: number, from = '2000-01-01'): Promise<HolidayRange[]> {
  const rows: { id: number; school_id: number; starts_on: string; ends_on: string; name: string }[] = await knex(
    'school_holiday_ranges',
  )
    .where('school_id', schoolId)
    .where('ends_on', '>=', from)
    .orderBy(['starts_on', 'id'])
    .select('id', 'school_id', 'starts_on', 'ends_on', 'name');
  return rows.map((r) => ({ id: r.id, schoolId: r.school_id, from: r.starts_on, to: r.ends_on, name: r.name }));
}

/**
 * Remove one holiday range of a school (its days come back to the grid and to every count of school days).
 * The school is in the DELETE's WHERE: another school's range answers undefined (→ 404) and nothing changes.
 */
export async function removeHolidayRange(
  knex: Knex,
  o: { schoolId: number; rangeId: number },
  actor: Actor,
): Promise<HolidayRange | undefined> {
  return knex.transaction(async (trx) => {
    const [row]: { id: number; school_id: number; starts_on: string; ends_on: string; name: string }[] = await trx(
      'school_holiday_ranges',
    )
      .where({ id: o.rangeId, school_id: o.schoolId })
      .del()
      .returning(['id', 'school_id', 'starts_on', 'ends_on', 'name']);
    if (!row) return undefined;
    // school_holidays rows go with their range (ON DELETE CASCADE).
    const removed = { id: row.id, schoolId: row.school_id, from: row.starts_on, to: row.ends_on, name: row.name };
    await audit(trx, actor, {
      action: 'holiday.removed',
      targetType: 'school_holiday_range',
      targetId: row.id,
      details: { from: removed.from, to: removed.to, name: removed.name },
    });
    return removed;
  });
}

/** The school days a dismissal start can be set for: 1 = 星期一 … 5 = 星期五. */
export const SCHOOL_WEEKDAYS = [1, 2, 3, 4, 5] as const;
export const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A school's dismissal start of each weekday, the default where it has set none. */
export async function dismissalStartsOf(knex: Db, schoolId: number): Promise<Map<number, string>> {
  const own = (await loadDismissalStarts(knex, [schoolId])).get(schoolId);
  return new Map(SCHOOL_WEEKDAYS.map((w) => [w, own?.get(w) ?? DEFAULT_DISMISSAL_START]));
}

/**
 * Set the school's dismissal start per weekday (`HH:mm` each, Monday … Friday), in one transaction; the change
 * is audited (old and new values) when anything changed. A day that already has its departure keeps the start it
 * was decided with (attendance_days.dismissal_start, see days.ts), and so the departure and the SMS that went
 * with it; every other day computed from now on uses the new times.
 */
export async function setDismissalStarts(
  knex: Knex,
  o: { schoolId: number; starts: ReadonlyMap<number, string>; byAccountId?: number | null },
  actor: Actor,
): Promise<{ weekday: number; from: string; to: string }[]> {
  for (const w of SCHOOL_WEEKDAYS) {
    const t = o.starts.get(w);
    if (t === undefined || !HHMM_RE.test(t)) throw new CalendarError('放學時間格式應為 HH:mm，例如 11:30');
  }
  return knex.transaction(async (trx) => {
    const before = (await trx('school_dismissal_times')
      .where('school_id', o.schoolId)
      .forUpdate()
      .select('weekday', 'starts_at')) as {
      weekday: number;
      starts_at: string;
    }[];
    const old = new Map(before.map((r) => [Number(r.weekday), r.starts_at]));
    const changes = SCHOOL_WEEKDAYS.map((w) => ({
      weekday: w,
      from: old.get(w) ?? DEFAULT_DISMISSAL_START,
      to: o.starts.get(w)!,
    })).filter((c) => c.from !== c.to);
    if (changes.length === 0) return [];
    await trx('school_dismissal_times')
      .insert(
        SCHOOL_WEEKDAYS.map((w) => ({
          school_id: o.schoolId,
          weekday: w,
          starts_at: o.starts.get(w)!,
          updated_by_account_id: o.byAccountId ?? null,
          updated_at: trx.fn.now(),
        })),
      )
      .onConflict(['school_id', 'weekday'])
      .merge(['starts_at', 'updated_by_account_id', 'updated_at']);
    await audit(trx, actor, {
      action: 'dismissal_times.set',
      targetType: 'school',
      targetId: o.schoolId,
      details: { changes },
    });
    return changes;
  });
}
