/**
 * Arrival/departure SMS notices (到離校簡訊): written to the outbox in the caller's transaction (the swipe's),
 * one row per verified phone of the student, only when the student's subscription is effective on that
 * Taipei day and includes that item. `dedupe_key` makes "one per student per direction per day per phone"
 * a database fact, so a retried swipe never writes a second notice.
 */
import type { Knex } from 'knex';
import { enqueue } from './outbox-status.js';
import { taipeiInstant } from '../time.js';
import { stripControlChars } from '../text.js';
import { inEffectOn } from '../subscriptions/lifecycle-sql.js';

export type Direction = 'arrival' | 'departure';

export interface AttendanceNotice {
  studentId: number;
  direction: Direction;
  /** Asia/Taipei date, YYYY-MM-DD. */
  date: string;
  /** Asia/Taipei time, HH:mm. */
  time: string;
}

export const SMS_PREFIX = '【臺北市數位學生證】';
/** One SMS segment of UCS-2 text. */
export const SMS_MAX_CHARS = 70;

/** Count characters as code points (so a name with supplementary characters is never cut in half). */
const chars = (s: string) => Array.from(s);

/** `【臺北市數位學生證】王小明已於07:42到校。`, at most 70 characters; a very long name is shortened with '…'. */
export function attendanceNoticeBody(name: string, direction: Direction, time: string): string {
  const tail = `已於${time}${direction === 'arrival' ? '到校' : '離校'}。`;
  const room = SMS_MAX_CHARS - chars(SMS_PREFIX).length - chars(tail).length;
  const clean = stripControlChars(name).trim();
  const letters = chars(clean);
  const shown = letters.length <= room ? clean : `${letters.slice(0, room - 1).join('')}…`;
  return `${SMS_PREFIX}${shown}${tail}`;
}

/**
 * Queue the notice for every verified phone of the student if a subscription effective on `n.date` includes
 * the item. Returns how many outbox rows were written (0 when none is due or they already exist).
 */
export async function enqueueAttendanceNotices(trx: Knex.Transaction | Knex, n: AttendanceNotice): Promise<number> {
  return enqueueAttendanceNoticesBulk(trx, [n]);
}

/**
 * Queue many notices at once (the reader API's batch): one statement finds, for every notice, the students
 * with a subscription effective on its date that includes its item and their verified phones; one more writes
 * the outbox rows. `dedupe_key` (direction, student, date, phone) makes a retried swipe write nothing twice.
 * "In effect on D" is the lifecycle's rule (lifecycle-sql.ts inEffectOn).
 */
export async function enqueueAttendanceNoticesBulk(
  trx: Knex.Transaction | Knex,
  notices: readonly AttendanceNotice[],
): Promise<number> {
  if (notices.length === 0) return 0;
  for (const n of notices) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(n.date)) throw new Error(`bad date ${n.date}`);
    if (!/^\d{2}:\d{2}$/.test(n.time)) throw new Error(`bad time ${n.time}`);
    if (n.direction !== 'arrival' && n.direction !== 'departure') throw new Error('bad direction');
  }
  const due = (
    await trx.raw<{ rows: { i: number; school_id: number; name: string; phone: string }[] }>(
      `select k.i, st.school_id, st.name, ph.number as phone
         from unnest(?::int[], ?::int[], ?::text[], ?::date[]) as k(i, student_id, direction, day)
         join students st on st.id = k.student_id
         join phones ph on ph.student_id = k.student_id and ph.verified_at is not null
        where exists (
          select 1 from subscriptions sub join service_periods per on per.id = sub.period_id
           where sub.student_id = k.student_id and per.school_id = st.school_id
             and case k.direction when 'arrival' then sub.arrival else sub.departure end
             and ?)
        order by k.i, ph.id`,
      [
        notices.map((_, i) => i),
        notices.map((n) => n.studentId),
        notices.map((n) => n.direction),
        notices.map((n) => n.date),
        inEffectOn(trx, { sub: 'sub', period: 'per' }, trx.raw('k.day')),
      ],
    )
  ).rows;
  if (due.length === 0) return 0;
  // Due from the moment of the swipe (app time, not the database's clock, so fixed clocks agree); one statement,
  // and the school's daily SMS figures in the swipe's transaction (its last statement): outbox-status.ts.
  const written = await enqueue(
    trx,
    due.map((d) => {
      const n = notices[d.i]!;
      return {
        schoolId: d.school_id,
        studentId: n.studentId,
        kind: n.direction,
        phone: d.phone,
        body: attendanceNoticeBody(d.name, n.direction, n.time),
        dedupeKey: `${n.direction}:${n.studentId}:${n.date}:${d.phone}`,
        at: taipeiInstant(n.date, n.time).toISOString(),
      };
    }),
  );
  return written.length;
}
