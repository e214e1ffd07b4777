/**
 * The one writer of an SMS's state: every statement that inserts an `sms_outbox` row or changes its `status`
 * (and what goes with a status: sent_at, delivered_at, failure_code, last_error, attempts, the claim's lease)
 * is here, and each one counts its rows in the school's daily SMS figures (reports/daily-figures.ts) in the
 * caller's transaction. The transitions:
 *
 *   (new) ──enqueue──▶ queued ──claim──▶ sending ──recordOutcomes──▶ sent │ queued (retry) │ failed
 *   sending ──release──▶ queued (the attempt not counted)
 *   sent / sending / failed ──deliveryReported (delivered)──▶ delivered
 *   sent / sending ──deliveryReported (undeliverable)──▶ failed
 *   failed ──requeueFailed (重新發送)──▶ queued
 *
 * The dispatcher's three statements are key lookups whatever the statistics say (KEY_LOOKUP_SETTINGS_SQL):
 * the claim walks `sms_outbox_due` in next_attempt_at order and stops at the limit, the outcome and the
 * release join a batch of ids to `sms_outbox_pkey`, fenced on the claim's attempt and lease
 * (test/integration/dispatcher-plans.test.ts checks the plans). test/unit/outbox-writer.test.ts fails when
 * another file of src writes the outbox.
 */
import type { Knex } from 'knex';
import { countSmsChanges } from '../reports/daily-figures.js';
import type { SmsFailureCode } from './sms-words.js';

type Db = Knex | Knex.Transaction;

/**
 * The dispatcher's statements run with sequential and bitmap scans, hash and merge joins off (for their own
 * transaction only). After a quiet night the statistics say the queue is empty; the planner then prefers a
 * bitmap scan of every due row plus a sort for the claim, and a hash join over a scan of the due index for
 * the outcomes — costs that grow with the queue, paid by every batch (measured at city scale: 15 SMS/s). Without those, the
 * only plans left walk `sms_outbox_due` in next_attempt_at order up to the limit, and join a batch to
 * `sms_outbox_pkey` row by row.
 */
export const KEY_LOOKUP_SETTINGS_SQL = `select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
  set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`;

/**
 * Key lookups by primary key, fenced on the claim: one statement for a whole batch. The fence is the claim's
 * attempt and lease: `claimed_until` is set only by a claim (with status 'sending') and cleared by every other
 * write, so a row still carrying our lease and attempt is 'sending' under our claim. (A literal
 * `status = 'sending'` here would let the planner pick the partial due index, as measured at city scale.)
 */
export const RECORD_SQL = `
update sms_outbox as o set
  status = v.status,
  provider_message_id = coalesce(v.provider_message_id, o.provider_message_id),
  sent_at = coalesce(v.sent_at, o.sent_at),
  next_attempt_at = coalesce(v.next_attempt_at, o.next_attempt_at),
  last_error = v.last_error,
  failure_code = v.failure_code,
  body = coalesce(v.body, o.body),
  claimed_until = null
from jsonb_to_recordset(?::jsonb) as v(id bigint, attempts int, lease timestamptz, status text,
  provider_message_id text, sent_at timestamptz, next_attempt_at timestamptz, last_error text, failure_code text, body text)
where o.id = v.id and o.attempts = v.attempts and o.claimed_until = v.lease
returning o.school_id, o.student_id, o.created_at, o.status`;

/** Claimed but never sent: back to the queue, due now, the attempt not counted. */
export const RELEASE_SQL = `
update sms_outbox as o set status = 'queued', attempts = o.attempts - 1, next_attempt_at = ?, claimed_until = null
from jsonb_to_recordset(?::jsonb) as v(id bigint, attempts int, lease timestamptz)
where o.id = v.id and o.attempts = v.attempts and o.claimed_until = v.lease`;

export const CLAIM_SQL = `
with due as (
  select id from sms_outbox
  where status in ('queued', 'sending') and next_attempt_at <= ?
  order by next_attempt_at
  limit ?
  for update skip locked
)
update sms_outbox as o
set status = 'sending', claimed_until = ?, next_attempt_at = ?, attempts = o.attempts + 1, provider = ?
from due
where o.id = due.id
returning o.id, o.kind, o.phone, o.body, o.attempts, o.attempts_before_resend`;

/** The rows a status change touched, as the daily figures count them. */
interface FigureRow {
  school_id: number | null;
  student_id: number | null;
  created_at: Date;
}

const countMoved = <R extends FigureRow>(trx: Db, rows: readonly R[], from: (r: R) => string | null, to: string) =>
  countSmsChanges(
    trx,
    rows.map((r) => ({ schoolId: r.school_id, studentId: r.student_id, createdAt: r.created_at, from: from(r), to })),
  );

/** A new SMS to send: due at `at`, created at `at`. */
export interface NewSms {
  schoolId: number | null;
  studentId: number | null;
  kind: 'arrival' | 'departure' | 'verification' | 'message';
  phone: string;
  body: string;
  at: Date | string;
  messageId?: number | null;
  /** A row with a key already in the outbox is not written again (a retried swipe). */
  dedupeKey?: string | null;
}

/**
 * Queue new messages (status 'queued') in one statement, in the caller's transaction, and count them in the
 * daily figures (its last statement on them). Returns the ids written, in the order given (a row whose
 * `dedupeKey` is already in the outbox is skipped).
 */
export async function enqueue(trx: Db, rows: readonly NewSms[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const written = await trx.raw<{ rows: (FigureRow & { id: string | number })[] }>(
    `insert into sms_outbox (school_id, student_id, message_id, kind, phone, body, dedupe_key, status, next_attempt_at, created_at)
     select s, st, m, k, p, b, dk, 'queued', a, a
       from unnest(?::int[], ?::int[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[])
         as t(s, st, m, k, p, b, dk, a)
     on conflict (dedupe_key) do nothing
     returning id, school_id, student_id, created_at`,
    [
      rows.map((r) => r.schoolId),
      rows.map((r) => r.studentId),
      rows.map((r) => r.messageId ?? null),
      rows.map((r) => r.kind),
      rows.map((r) => r.phone),
      rows.map((r) => r.body),
      rows.map((r) => r.dedupeKey ?? null),
      rows.map((r) => (typeof r.at === 'string' ? r.at : r.at.toISOString())),
    ] as unknown as readonly Knex.RawBinding[],
  );
  await countMoved(trx, written.rows, () => null, 'queued');
  return written.rows.map((r) => Number(r.id));
}

export interface ClaimedRow {
  id: number | string;
  kind: string;
  phone: string;
  body: string;
  attempts: number;
  attempts_before_resend: number;
}

/**
 * queued/sending (due) → sending: up to `limit` due rows, locked with SKIP LOCKED, leased until `lease`,
 * `attempts + 1`. One statement (in a transaction only for its planner settings); changes no figure.
 */
export async function claimDue(
  knex: Knex,
  c: { now: Date; limit: number; lease: Date; provider: string },
): Promise<ClaimedRow[]> {
  const res = await knex.transaction(async (trx) => {
    await trx.raw(KEY_LOOKUP_SETTINGS_SQL);
    return trx.raw<{ rows: ClaimedRow[] }>(CLAIM_SQL, [c.now, c.limit, c.lease, c.lease, c.provider]);
  });
  return res.rows;
}

/** One claimed row's outcome: 'sent', back to 'queued' (a retry) or 'failed'. */
export interface OutcomeRow {
  id: number;
  attempts: number;
  lease: string;
  status: 'sent' | 'queued' | 'failed';
  provider_message_id: string | null;
  sent_at: string | null;
  next_attempt_at: string | null;
  last_error: string | null;
  failure_code: SmsFailureCode | null;
  body: string | null;
}

/**
 * sending → sent | queued | failed, for a batch in one statement; the fence drops any row whose claim was lost.
 * The rows it did update were 'sending' under the claim: the daily figures count them as they are now, in the
 * same transaction (one more statement, only when a message was sent or failed).
 */
export async function recordOutcomes(knex: Knex, rows: readonly OutcomeRow[]): Promise<void> {
  if (rows.length === 0) return;
  await knex.transaction(async (trx) => {
    await trx.raw(KEY_LOOKUP_SETTINGS_SQL);
    const done = await trx.raw<{ rows: (FigureRow & { status: string })[] }>(RECORD_SQL, [JSON.stringify(rows)]);
    await countSmsChanges(
      trx,
      done.rows.map((r) => ({
        schoolId: r.school_id,
        studentId: r.student_id,
        createdAt: r.created_at,
        from: 'sending',
        to: r.status,
      })),
    );
  });
}

/** sending → queued, due `now`, the attempt not counted (claims never sent); fenced like the outcomes. */
export async function releaseClaims(
  knex: Knex,
  now: Date,
  fence: readonly { id: number; attempts: number; lease: string }[],
): Promise<number> {
  if (fence.length === 0) return 0;
  const res = await knex.transaction(async (trx) => {
    await trx.raw(KEY_LOOKUP_SETTINGS_SQL);
    return trx.raw(RELEASE_SQL, [now, JSON.stringify(fence)]) as unknown as Promise<{ rowCount: number }>;
  });
  return res.rowCount ?? 0;
}

/** A delivery report from the provider about the message it knows as `providerMessageId`. */
export type DeliveryReport = { delivered: true } | { delivered: false; failureCode: SmsFailureCode; lastError: string };

/**
 * sent/sending/failed → delivered, or sent/sending → failed (undeliverable), in one transaction that locks the
 * rows as they were so the figures move each from its old state. Returns how many rows changed.
 */
export async function deliveryReported(
  knex: Knex,
  r: { provider: string; providerMessageId: string; report: DeliveryReport; now: Date },
): Promise<number> {
  const from = r.report.delivered ? ['sent', 'sending', 'failed'] : ['sent', 'sending'];
  const set = r.report.delivered
    ? { status: 'delivered', delivered_at: r.now, claimed_until: null }
    : { status: 'failed', claimed_until: null, failure_code: r.report.failureCode, last_error: r.report.lastError };
  return knex.transaction(async (trx) => {
    const rows: (FigureRow & { id: number; status: string })[] = await trx('sms_outbox')
      .where({ provider: r.provider, provider_message_id: r.providerMessageId })
      .whereIn('status', from)
      .forUpdate()
      .select('id', 'status', 'school_id', 'student_id', 'created_at');
    if (rows.length === 0) return 0;
    await trx('sms_outbox')
      .whereIn(
        'id',
        rows.map((x) => x.id),
      )
      .update(set);
    await countMoved(trx, rows, (x) => x.status, set.status);
    return rows.length;
  });
}

/** Which failed messages a resend takes: one of the school's, or every one the school created in [from, to). */
export type RequeueScope = { schoolId: number; id: number } | { schoolId: number; from: Date; to: Date };

/**
 * failed → queued (重新發送), due `now`: a new round of attempts starts from `attempts_before_resend = attempts`.
 * Never a verification code. In the caller's transaction; counted in the figures. Returns the rows requeued
 * with their attempts before.
 */
export async function requeueFailed(
  trx: Knex.Transaction,
  scope: RequeueScope,
  now: Date,
): Promise<{ id: number; attempts: number }[]> {
  const q = trx('sms_outbox').where({ school_id: scope.schoolId, status: 'failed' }).whereNot('kind', 'verification');
  if ('id' in scope) q.where('id', scope.id);
  else q.where('created_at', '>=', scope.from).where('created_at', '<', scope.to);
  const rows: (FigureRow & { id: string | number; attempts: number })[] = await q
    .update({
      status: 'queued',
      next_attempt_at: now,
      claimed_until: null,
      failure_code: null,
      last_error: null,
      attempts_before_resend: trx.raw('attempts'),
    })
    .returning(['id', 'attempts', 'school_id', 'student_id', 'created_at']);
  await countMoved(trx, rows, () => 'failed', 'queued');
  return rows.map((r) => ({ id: Number(r.id), attempts: r.attempts }));
}
