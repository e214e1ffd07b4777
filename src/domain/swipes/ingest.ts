/**
 * Card swipes from a gate reader. A batch is validated as a whole first (malformed, oversized or future-dated:
 * refused, nothing stored); then, in ONE transaction, each swipe is stored (accepted), recognised as a retry
 * (duplicate) or refused with a reason (rejected), and a swipe that makes a student's arrival or first
 * departure of the day queues the SMS notices in that same transaction.
 *
 * Everything inside the transaction goes through `trx` (the embedded database must never wait on a second
 * connection while this one holds locks).
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { enqueueAttendanceNoticesBulk, type AttendanceNotice } from '../sms/attendance-notices.js';
import { taipeiDate, taipeiTime } from '../time.js';
import { dayKey, lockStudents, refreshDays } from '../attendance/days.js';
import { noticeOf, type Direction } from '../attendance/rules.js';
import type { Reader } from '../readers/reader-tokens.js';
import { CARD_UID_RE, normaliseCardUid, studentsForCards } from './cards.js';

export const MAX_BATCH = 500;
/** How far ahead of our clock a reader's clock may run before its swipes count as future-dated. */
export const FUTURE_SKEW_MS = 5 * 60 * 1000;
/** Swipes older than this are refused one by one (a reader replaying an ancient buffer). */
export const MAX_AGE_DAYS = 31;

const SwipeSchema = z.strictObject({
  event_id: z
    .string({ error: 'event_id must be a string' })
    .min(1, 'event_id must not be empty')
    .max(100, 'event_id is at most 100 characters')
    .regex(/^[\x21-\x7e]+$/, 'event_id must be printable ASCII without spaces'),
  card_uid: z
    .string({ error: 'card_uid must be a string' })
    .regex(CARD_UID_RE, 'card_uid must be 1-64 letters, digits, ":" or "-"'),
  swiped_at: z.iso.datetime({ offset: true, error: 'swiped_at must be an ISO 8601 date-time with a time zone' }),
});

const BatchSchema = z.strictObject({
  swipes: z
    .array(SwipeSchema, { error: 'swipes must be an array' })
    .min(1, 'swipes must hold at least one swipe')
    .max(MAX_BATCH, `at most ${MAX_BATCH} swipes per request`),
});

export type SwipeIn = z.infer<typeof SwipeSchema>;

export type BatchCheck =
  | { ok: true; swipes: SwipeIn[] }
  | { ok: false; status: 400 | 413 | 422; code: string; message: string; details?: unknown };

/** Validate a request body as a whole. Nothing is stored unless this says ok. */
export function checkBatch(body: unknown, now: Date): BatchCheck {
  const raw = body as { swipes?: unknown } | undefined;
  if (raw && typeof raw === 'object' && Array.isArray(raw.swipes) && raw.swipes.length > MAX_BATCH) {
    return {
      ok: false,
      status: 413,
      code: 'batch_too_large',
      message: `at most ${MAX_BATCH} swipes per request (got ${raw.swipes.length}); nothing was stored`,
    };
  }
  const parsed = BatchSchema.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = details[0];
    return {
      ok: false,
      status: 400,
      code: 'malformed',
      message: `malformed batch${first ? ` (${first.path || 'body'}: ${first.message})` : ''}; nothing was stored`,
      details,
    };
  }
  const limit = now.getTime() + FUTURE_SKEW_MS;
  const future = parsed.data.swipes
    .map((s, index) => ({ index, event_id: s.event_id, at: Date.parse(s.swiped_at) }))
    .filter((s) => s.at > limit)
    .map(({ index, event_id }) => ({ index, event_id }));
  if (future.length > 0) {
    return {
      ok: false,
      status: 422,
      code: 'future_dated',
      message: `${future.length} swipe(s) are dated more than ${FUTURE_SKEW_MS / 60000} minutes in the future: check the reader's clock; nothing was stored`,
      details: future.slice(0, 50),
    };
  }
  return { ok: true, swipes: parsed.data.swipes };
}

export type SwipeResult =
  | { event_id: string; status: 'accepted'; matched: boolean }
  | { event_id: string; status: 'duplicate' }
  | { event_id: string; status: 'rejected'; reason: 'event_id_reused' | 'too_old' };

export interface IngestOptions {
  now: Date;
  departureMinMinutes: number;
  lateSwipeMinutes: number;
}

interface Stored {
  id: number;
  studentId: number;
  date: string;
  at: Date;
}

/**
 * Store a validated batch for a reader, in one transaction and a fixed number of statements whatever its size
 * (cards resolved, swipes inserted, retries told apart, days recomputed and notices queued, each in bulk).
 * Results are in the order of the input.
 */
export async function ingestSwipes(
  knex: Knex,
  reader: Reader,
  swipes: readonly SwipeIn[],
  o: IngestOptions,
): Promise<{ results: SwipeResult[]; notices: number }> {
  // 1. In memory: repeats inside the batch and swipes too old to take.
  type Fresh = { index: number; event_id: string; uid: string; at: Date; date: string };
  const results: (SwipeResult | undefined)[] = new Array(swipes.length);
  const seen = new Map<string, { uid: string; at: number; tooOld: boolean }>();
  const repeats: { index: number; event_id: string; uid: string; at: number }[] = [];
  const fresh: Fresh[] = [];
  const oldest = o.now.getTime() - MAX_AGE_DAYS * 86_400_000;
  swipes.forEach((s, index) => {
    const uid = normaliseCardUid(s.card_uid);
    const at = new Date(Date.parse(s.swiped_at));
    if (seen.has(s.event_id)) {
      repeats.push({ index, event_id: s.event_id, uid, at: at.getTime() });
      return;
    }
    const tooOld = at.getTime() < oldest;
    seen.set(s.event_id, { uid, at: at.getTime(), tooOld });
    if (tooOld) results[index] = { event_id: s.event_id, status: 'rejected', reason: 'too_old' };
    else fresh.push({ index, event_id: s.event_id, uid, at, date: taipeiDate(at) });
  });

  return knex.transaction(async (trx) => {
    let notices = 0;
    if (fresh.length === 0) await trx('card_readers').where({ id: reader.id }).update({ last_seen_at: o.now });
    else {
      // 2. Whose card each swipe is, on its own date (and the reader's last_seen_at, in the same statement).
      const owners = await studentsForCards(
        trx,
        reader.schoolId,
        fresh.map((f) => ({ uid: f.uid, date: f.date })),
        { readerId: reader.id, at: o.now },
      );
      // The owners are locked now, before their swipes are inserted (refreshDays below would take the same locks,
      // in the same id order): each swipe's foreign-key check then finds the student already locked instead of
      // writing a lock of its own on the student's row.
      const locked = await lockStudents(trx, [...new Set(owners.values())]);
      // 3. Insert them all, in event id order (two overlapping retries of one reader take the same unique keys
      //    in the same order: no deadlock); a row not inserted is a retry (or an event id reused). Each keeps the
      //    reader's direction of now: a later change of it applies to the swipes recorded from then on (days.ts).
      const ordered = [...fresh].sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
      const inserted = (
        await trx.raw<{ rows: { id: number; event_id: string }[] }>(
          `insert into swipes (reader_id, school_id, event_id, card_uid, swiped_at, swipe_date, received_at, student_id,
                               reader_direction)
           select ?, ?, e, u, a, d, ?, s, ?::text
             from unnest(?::text[], ?::text[], ?::timestamptz[], ?::date[], ?::int[]) as t(e, u, a, d, s)
           on conflict (reader_id, event_id) do nothing
           returning id, event_id`,
          [
            reader.id,
            reader.schoolId,
            o.now,
            reader.direction ?? null,
            ordered.map((f) => f.event_id),
            ordered.map((f) => f.uid),
            ordered.map((f) => f.at.toISOString()),
            ordered.map((f) => f.date),
            ordered.map((f) => owners.get(`${f.uid}|${f.date}`) ?? null),
          ] as unknown as readonly Knex.RawBinding[],
        )
      ).rows;
      const newId = new Map(inserted.map((r) => [r.event_id, Number(r.id)]));
      const missing = fresh.filter((f) => !newId.has(f.event_id)).map((f) => f.event_id);
      const existing = new Map<string, { card_uid: string; swiped_at: Date }>();
      if (missing.length > 0) {
        const rows: { event_id: string; card_uid: string; swiped_at: Date }[] = await trx('swipes')
          .where('reader_id', reader.id)
          .whereIn('event_id', missing)
          .select('event_id', 'card_uid', 'swiped_at');
        for (const r of rows) existing.set(r.event_id, r);
      }
      const stored: Stored[] = [];
      for (const f of fresh) {
        const id = newId.get(f.event_id);
        if (id === undefined) {
          const e = existing.get(f.event_id);
          const same = e && e.card_uid === f.uid && new Date(e.swiped_at).getTime() === f.at.getTime();
          results[f.index] = same
            ? { event_id: f.event_id, status: 'duplicate' }
            : { event_id: f.event_id, status: 'rejected', reason: 'event_id_reused' };
          continue;
        }
        const studentId = owners.get(`${f.uid}|${f.date}`);
        results[f.index] = { event_id: f.event_id, status: 'accepted', matched: studentId !== undefined };
        if (studentId !== undefined) stored.push({ id, studentId, date: f.date, at: f.at });
      }
      // 4. The students' days, recomputed under a lock per student (refreshDays takes it), and the notices of
      //    the swipes that made an arrival or a first departure.
      if (stored.length > 0) {
        const days = await refreshDays(
          trx,
          stored.map((s) => ({ studentId: s.studentId, date: s.date })),
          { departureMinMinutes: o.departureMinMinutes, locked },
        );
        const due: AttendanceNotice[] = [];
        for (const s of stored) {
          if (o.now.getTime() - s.at.getTime() > o.lateSwipeMinutes * 60_000) continue; // a late reader: no SMS
          const day = days.get(dayKey(s.studentId, s.date));
          const direction: Direction | undefined = day ? noticeOf(day.attendance, s.id) : undefined;
          if (direction) due.push({ studentId: s.studentId, direction, date: s.date, time: taipeiTime(s.at) });
        }
        notices = await enqueueAttendanceNoticesBulk(trx, due);
      }
    }
    // 5. Repeats inside the batch answer like their first occurrence.
    for (const r of repeats) {
      const first = seen.get(r.event_id)!;
      results[r.index] =
        first.uid !== r.uid || first.at !== r.at
          ? { event_id: r.event_id, status: 'rejected', reason: 'event_id_reused' }
          : first.tooOld
            ? { event_id: r.event_id, status: 'rejected', reason: 'too_old' }
            : { event_id: r.event_id, status: 'duplicate' };
    }
    return { results: results as SwipeResult[], notices };
  });
}
