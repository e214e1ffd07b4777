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
import { enqueueAttendanceNotices } from '../sms/attendance-notices.js';
import { taipeiDate, taipeiTime } from '../time.js';
import { loadRecords } from '../attendance/records.js';
import { noticeFor, type Direction } from '../attendance/rules.js';
import type { Reader } from '../readers/reader-tokens.js';
import { CARD_UID_RE, normaliseCardUid, studentForCard } from './cards.js';

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

/** Store a validated batch for a reader, in one transaction. Results are in the order of the input. */
export async function ingestSwipes(
  knex: Knex,
  reader: Reader,
  swipes: readonly SwipeIn[],
  o: IngestOptions,
): Promise<{ results: SwipeResult[]; notices: number }> {
  return knex.transaction(async (trx) => {
    await trx('card_readers').where({ id: reader.id }).update({ last_seen_at: o.now });
    const results: SwipeResult[] = [];
    const stored: Stored[] = [];
    const seen = new Map<string, { uid: string; at: number; tooOld: boolean }>();
    const oldest = o.now.getTime() - MAX_AGE_DAYS * 86_400_000;

    for (const s of swipes) {
      const uid = normaliseCardUid(s.card_uid);
      const at = new Date(Date.parse(s.swiped_at));
      const earlier = seen.get(s.event_id);
      if (earlier) {
        // The same event twice in one batch: a retry of it (or the same refusal), else a reuse.
        results.push(
          earlier.uid !== uid || earlier.at !== at.getTime()
            ? { event_id: s.event_id, status: 'rejected', reason: 'event_id_reused' }
            : earlier.tooOld
              ? { event_id: s.event_id, status: 'rejected', reason: 'too_old' }
              : { event_id: s.event_id, status: 'duplicate' },
        );
        continue;
      }
      const tooOld = at.getTime() < oldest;
      seen.set(s.event_id, { uid, at: at.getTime(), tooOld });
      if (tooOld) {
        results.push({ event_id: s.event_id, status: 'rejected', reason: 'too_old' });
        continue;
      }
      const date = taipeiDate(at);
      const studentId = await studentForCard(trx, reader.schoolId, uid, date);
      const inserted: { id: number }[] = await trx('swipes')
        .insert({
          reader_id: reader.id,
          school_id: reader.schoolId,
          event_id: s.event_id,
          card_uid: uid,
          swiped_at: at,
          swipe_date: date,
          received_at: o.now,
          student_id: studentId ?? null,
        })
        .onConflict(['reader_id', 'event_id'])
        .ignore()
        .returning('id');
      const row = inserted[0];
      if (!row) {
        const existing = await trx('swipes')
          .where({ reader_id: reader.id, event_id: s.event_id })
          .first('card_uid', 'swiped_at');
        const same = existing && existing.card_uid === uid && new Date(existing.swiped_at).getTime() === at.getTime();
        results.push(
          same
            ? { event_id: s.event_id, status: 'duplicate' }
            : { event_id: s.event_id, status: 'rejected', reason: 'event_id_reused' },
        );
        continue;
      }
      results.push({ event_id: s.event_id, status: 'accepted', matched: studentId !== undefined });
      if (studentId !== undefined && o.now.getTime() - at.getTime() <= o.lateSwipeMinutes * 60_000) {
        stored.push({ id: Number(row.id), studentId, date, at });
      }
    }

    // Notices, student by student in id order (a stable lock order across concurrent batches).
    let notices = 0;
    stored.sort((a, b) => a.studentId - b.studentId || a.at.getTime() - b.at.getTime() || a.id - b.id);
    let locked: number | undefined;
    for (const s of stored) {
      if (locked !== s.studentId) {
        // Serialise the decision "is this the day's arrival / first departure?" per student.
        await trx('students').where({ id: s.studentId }).forNoKeyUpdate().first('id');
        locked = s.studentId;
      }
      const book = await loadRecords(trx, [s.studentId], s.date, s.date);
      const day = book.get(s.studentId)?.get(s.date);
      if (!day) continue;
      const direction: Direction | undefined = noticeFor(day, s.id, { departureMinMinutes: o.departureMinMinutes });
      if (!direction) continue;
      notices += await enqueueAttendanceNotices(trx, {
        studentId: s.studentId,
        direction,
        date: s.date,
        time: taipeiTime(s.at),
      });
    }
    return { results, notices };
  });
}
