/**
 * Daily figures per school (統計報表 and the staff 首頁 read them instead of recounting millions of rows):
 *
 * - `daily_sms_figures` (school, Taipei day of creation): the school's SMS by state — `queued` (待發送: queued
 *   or being sent), `sent` (handed to the provider, no delivery report yet), `delivered`, `failed`. Only
 *   messages of a student count (every arrival/departure notice, verification code and 訊息發送服務 message
 *   has one), as the live query counted the school's students' messages.
 * - `daily_attendance_figures` (school, day): students with a stored day (`attendance_days`: a swipe or a 補登
 *   that day), of them with a 到校時間 (`arrived`) and with a 離校時間 (`departed`).
 *
 * They are written in the SAME transaction as the change they count, by the one place each change happens:
 * sms/outbox-status.ts, the one writer of an SMS's state (queue, outcome, delivery report, 重新發送), calls
 * `countSmsChanges`; `refreshDays` (every writer of a record)
 * calls `countDayChanges`. Each call is ONE statement whatever the batch: the changes are added up per
 * (school, day) first and applied in key order (`insert … on conflict do update set n = n + excluded.n`), so
 * two transactions always lock figure rows in the same order, and a transaction takes attendance figures (in
 * refreshDays) before SMS figures (the notices queued after it) — never the other way round. Callers make it
 * their last statement on the figures, so a row is held only until their commit.
 *
 * `rebuildFigures` recounts them from the raw rows (the migration's backfill, `npm run admin -- figures:rebuild`,
 * bulk loaders such as demo:city that write raw rows directly). See docs/daily-figures.md.
 */
import type { Knex } from 'knex';
import { prepared } from '../../db/prepared.js';
import { addDays, startOfTaipeiDay, taipeiDate } from '../time.js';
import { jsonRows, type Folded } from '../folded.js';

type Db = Knex | Knex.Transaction;

export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';
export type SmsBucket = 'queued' | 'sent' | 'delivered' | 'failed';

/** The figure an outbox status counts in ('sending' is still 待發送: the claim changes no figure). */
export function smsBucket(status: string): SmsBucket {
  switch (status) {
    case 'queued':
    case 'sending':
      return 'queued';
    case 'sent':
    case 'delivered':
    case 'failed':
      return status;
    default:
      throw new Error(`unknown sms status ${status}`);
  }
}

/** One outbox row that was inserted (`from` null) or changed status. */
export interface SmsChange {
  schoolId: number | null;
  studentId: number | null;
  createdAt: Date | string;
  from: string | null;
  to: string | null;
}

export interface SmsFigure {
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
}

const BUCKETS: SmsBucket[] = ['queued', 'sent', 'delivered', 'failed'];

/** (school, day) keys in a fixed order: every writer locks figure rows in this order. */
function byKey<T extends { schoolId: number; day: string }>(a: T, b: T): number {
  return a.schoolId - b.schoolId || (a.day < b.day ? -1 : a.day > b.day ? 1 : 0);
}

/** Count outbox changes in the SMS figures: one statement, inside the caller's transaction. */
export async function countSmsChanges(trx: Db, changes: readonly SmsChange[]): Promise<void> {
  const sums = new Map<string, { schoolId: number; day: string } & SmsFigure>();
  for (const c of changes) {
    if (c.schoolId === null || c.studentId === null) continue;
    const from = c.from === null ? undefined : smsBucket(c.from);
    const to = c.to === null ? undefined : smsBucket(c.to);
    if (from === to) continue;
    const day = taipeiDate(new Date(c.createdAt));
    const key = `${c.schoolId}|${day}`;
    let s = sums.get(key);
    if (!s) sums.set(key, (s = { schoolId: c.schoolId, day, queued: 0, sent: 0, delivered: 0, failed: 0 }));
    if (from) s[from] -= 1;
    if (to) s[to] += 1;
  }
  const rows = [...sums.values()].filter((s) => BUCKETS.some((b) => s[b] !== 0)).sort(byKey);
  if (rows.length === 0) return;
  await trx.raw(
    `insert into daily_sms_figures as f (school_id, day, queued, sent, delivered, failed)
     select * from unnest(?::int[], ?::date[], ?::int[], ?::int[], ?::int[], ?::int[])
     on conflict (school_id, day) do update set
       queued = f.queued + excluded.queued, sent = f.sent + excluded.sent,
       delivered = f.delivered + excluded.delivered, failed = f.failed + excluded.failed`,
    [
      rows.map((r) => r.schoolId),
      rows.map((r) => r.day),
      ...BUCKETS.map((b) => rows.map((r) => r[b])),
    ] as unknown as readonly Knex.RawBinding[],
  );
}

/** A stored day's shape as the attendance figures count it. */
export interface DayShape {
  arrived: boolean;
  departed: boolean;
}

/** One stored day (attendance_days row) created (`before` null), changed or removed (`after` null). */
export interface DayChange {
  schoolId: number;
  day: string;
  before: DayShape | null;
  after: DayShape | null;
}

export interface AttendanceFigure {
  recorded: number;
  arrived: number;
  departed: number;
}

/** Count stored-day changes in the attendance figures: one statement, inside the caller's transaction. */
export async function countDayChanges(trx: Db, changes: readonly DayChange[]): Promise<void> {
  const sums = new Map<string, { schoolId: number; day: string } & AttendanceFigure>();
  const n = (b: boolean) => (b ? 1 : 0);
  for (const c of changes) {
    const key = `${c.schoolId}|${c.day}`;
    let s = sums.get(key);
    if (!s) sums.set(key, (s = { schoolId: c.schoolId, day: c.day, recorded: 0, arrived: 0, departed: 0 }));
    s.recorded += n(c.after !== null) - n(c.before !== null);
    s.arrived += n(c.after?.arrived ?? false) - n(c.before?.arrived ?? false);
    s.departed += n(c.after?.departed ?? false) - n(c.before?.departed ?? false);
  }
  const rows = [...sums.values()].filter((s) => s.recorded !== 0 || s.arrived !== 0 || s.departed !== 0).sort(byKey);
  if (rows.length === 0) return;
  await trx.raw(
    `insert into daily_attendance_figures as f (school_id, day, recorded, arrived, departed)
     select * from unnest(?::int[], ?::date[], ?::int[], ?::int[], ?::int[])
     on conflict (school_id, day) do update set
       recorded = f.recorded + excluded.recorded, arrived = f.arrived + excluded.arrived, departed = f.departed + excluded.departed`,
    [
      rows.map((r) => r.schoolId),
      rows.map((r) => r.day),
      rows.map((r) => r.recorded),
      rows.map((r) => r.arrived),
      rows.map((r) => r.departed),
    ] as unknown as readonly Knex.RawBinding[],
  );
}

function smsFiguresQuery(knex: Db, schoolId: number, from: string, to: string): Knex.QueryBuilder {
  return knex('daily_sms_figures')
    .where('school_id', schoolId)
    .whereBetween('day', [from, to])
    .select('day', 'queued', 'sent', 'delivered', 'failed');
}

const smsFigureMap = (rows: readonly ({ day: string } & SmsFigure)[]): Map<string, SmsFigure> =>
  new Map(rows.map((r) => [r.day, { queued: r.queued, sent: r.sent, delivered: r.delivered, failed: r.failed }]));

/** A school's SMS figures of the days from `from` to `to` (days without a row are absent). */
export async function smsFigures(
  knex: Db,
  schoolId: number,
  from: string,
  to: string,
): Promise<Map<string, SmsFigure>> {
  return smsFigureMap(await prepared(smsFiguresQuery(knex, schoolId, from, to)));
}

/** `smsFigures` as a part of a folded statement (folded.ts): the same query, its rows as JSON. */
export function smsFiguresPart(knex: Knex, schoolId: number, from: string, to: string): Folded<Map<string, SmsFigure>> {
  return {
    sql: jsonRows(knex, smsFiguresQuery(knex, schoolId, from, to)),
    read: (v) => smsFigureMap(v as ({ day: string } & SmsFigure)[]),
  };
}

/** A school's attendance figures of the days from `from` to `to` (days without a row are absent). */
export async function attendanceFigures(
  knex: Db,
  schoolId: number,
  from: string,
  to: string,
): Promise<Map<string, AttendanceFigure>> {
  const rows = (await prepared(
    knex('daily_attendance_figures')
      .where('school_id', schoolId)
      .whereBetween('day', [from, to])
      .select('day', 'recorded', 'arrived', 'departed'),
  )) as ({ day: string } & AttendanceFigure)[];
  return new Map(rows.map((r) => [r.day, { recorded: r.recorded, arrived: r.arrived, departed: r.departed }]));
}

/** The Taipei day of an outbox row's created_at, in SQL (Taipei keeps UTC+08:00 all year). */
const TAIPEI_DAY = `((created_at at time zone 'UTC') + interval '8 hours')::date`;

export interface RebuildScope {
  /** Only these schools (default: every school). */
  schoolIds?: readonly number[];
  /** Only these days (default: every day). */
  from?: string;
  to?: string;
}

/**
 * Recount the figures from the raw rows (outbox rows, stored days) and replace them, in one transaction that
 * holds writers off the figure tables meanwhile (EXCLUSIVE mode: pages still read them). A writer that changed
 * raw rows but had not counted them yet waits and counts them after: its rows were not in the recount.
 * One school per statement (its rows through the (school_id, …) indexes), so no statement grows with the city
 * and each stays within the statement timeout. Returns the figure rows written.
 */
export async function rebuildFigures(
  knex: Knex,
  scope: RebuildScope = {},
): Promise<{ schools: number; smsRows: number; attendanceRows: number }> {
  if ((scope.from === undefined) !== (scope.to === undefined))
    throw new Error('rebuildFigures: from and to go together');
  return knex.transaction(async (trx) => {
    await trx.raw('lock table daily_attendance_figures, daily_sms_figures in exclusive mode');
    const schools = scope.schoolIds
      ? [...new Set(scope.schoolIds)].sort((a, b) => a - b)
      : ((await trx('schools').orderBy('id').pluck('id')) as number[]);
    const out = { schools: schools.length, smsRows: 0, attendanceRows: 0 };
    const days = scope.from === undefined ? undefined : { from: scope.from, to: scope.to! };
    for (const schoolId of schools) {
      const figures = (table: string) => {
        const q = trx(table).where('school_id', schoolId);
        return days ? q.whereBetween('day', [days.from, days.to]) : q;
      };
      await figures('daily_sms_figures').delete();
      await figures('daily_attendance_figures').delete();
      const sms = await trx.raw(
        `insert into daily_sms_figures (school_id, day, queued, sent, delivered, failed)
         select school_id, ${TAIPEI_DAY},
                count(*) filter (where status in ('queued', 'sending')), count(*) filter (where status = 'sent'),
                count(*) filter (where status = 'delivered'), count(*) filter (where status = 'failed')
           from sms_outbox
          where school_id = ? and student_id is not null ${days ? 'and created_at >= ? and created_at < ?' : ''}
          group by 1, 2`,
        days ? [schoolId, startOfTaipeiDay(days.from), startOfTaipeiDay(addDays(days.to, 1))] : [schoolId],
      );
      const att = await trx.raw(
        `insert into daily_attendance_figures (school_id, day, recorded, arrived, departed)
         select school_id, day, count(*), count(arrival_time), count(departure_time)
           from attendance_days
          where school_id = ? ${days ? 'and day between ? and ?' : ''}
          group by 1, 2`,
        days ? [schoolId, days.from, days.to] : [schoolId],
      );
      out.smsRows += (sms as { rowCount?: number }).rowCount ?? 0;
      out.attendanceRows += (att as { rowCount?: number }).rowCount ?? 0;
    }
    return out;
  });
}

/**
 * The days of one school whose figures differ from a recount of its raw rows (optionally only days from `from`
 * to `to`): what a rebuild would correct. A figure row of zeros and no row at all are the same.
 */
export async function figureDrift(
  knex: Db,
  schoolId: number,
  days?: { from: string; to: string },
): Promise<{ sms: number; attendance: number }> {
  const smsDays = days ? 'and created_at >= ? and created_at < ?' : '';
  const smsBindings = days ? [startOfTaipeiDay(days.from), startOfTaipeiDay(addDays(days.to, 1))] : [];
  const figureDays = days ? 'and day between ? and ?' : '';
  const figureBindings = days ? [days.from, days.to] : [];
  const sms = await knex.raw<{ rows: { n: number }[] }>(
    `with recount as (
       select ${TAIPEI_DAY} as day,
              count(*) filter (where status in ('queued', 'sending'))::int as queued, count(*) filter (where status = 'sent')::int as sent,
              count(*) filter (where status = 'delivered')::int as delivered, count(*) filter (where status = 'failed')::int as failed
         from sms_outbox where school_id = ? and student_id is not null ${smsDays} group by 1),
     stored as (select day, queued, sent, delivered, failed from daily_sms_figures
                 where school_id = ? ${figureDays} and (queued, sent, delivered, failed) <> (0, 0, 0, 0))
     select count(distinct day)::int as n from ((table recount except table stored) union all (table stored except table recount)) d`,
    [schoolId, ...smsBindings, schoolId, ...figureBindings] as Knex.RawBinding[],
  );
  const att = await knex.raw<{ rows: { n: number }[] }>(
    `with recount as (
       select day, count(*)::int as recorded, count(arrival_time)::int as arrived, count(departure_time)::int as departed
         from attendance_days where school_id = ? ${figureDays} group by 1),
     stored as (select day, recorded, arrived, departed from daily_attendance_figures
                 where school_id = ? ${figureDays} and (recorded, arrived, departed) <> (0, 0, 0))
     select count(distinct day)::int as n from ((table recount except table stored) union all (table stored except table recount)) d`,
    [schoolId, ...figureBindings, schoolId, ...figureBindings] as Knex.RawBinding[],
  );
  return { sms: sms.rows[0]?.n ?? 0, attendance: att.rows[0]?.n ?? 0 };
}
