/**
 * The SMS dispatcher: delivers sms_outbox rows through a provider, a batch at a time.
 *
 * 1. CLAIM (one statement): up to `batchSize` due rows — `status in ('queued','sending') and next_attempt_at
 *    <= now`, the predicate of the partial index `sms_outbox_due` — are locked with `FOR UPDATE SKIP LOCKED`
 *    and marked 'sending' with a lease (`claimed_until`, also written to next_attempt_at, so a 'sending' row is
 *    due again only when its lease has run out), `attempts + 1`. Another dispatcher skips the locked rows and,
 *    once this commits, no longer sees them as due: each row is claimed by one dispatcher at a time.
 * 2. SEND outside any transaction, `concurrency` messages at once (a slow gateway holds no lock and no
 *    connection).
 * 3. RECORD the batch's outcomes in ONE statement: `update … from jsonb_to_recordset(<outcomes>)` joined on
 *    the primary key and fenced on `attempts = <our attempt> and claimed_until = <our lease>`, so a dispatcher whose lease ran out cannot overwrite the outcome of the one that reclaimed the
 *    row. 'sent' with the provider's id and sent_at; back to 'queued' with exponential backoff; or 'failed'
 *    (a permanent error, or the last attempt of the round) with a failure_code (sms-words.ts). The rows it
 *    updated are counted in the school's daily figures (reports/daily-figures.ts) in the same transaction; the
 *    claim and the release change no figure ('sending' still counts as 待發送).
 *
 * Both statements are key lookups whatever the statistics say (KEY_LOOKUP_SETTINGS_SQL): the claim walks `sms_outbox_due` in
 * next_attempt_at order and stops at the limit, the outcome joins a batch of ids to `sms_outbox_pkey`
 * (test/integration/dispatcher-plans.test.ts checks the plans on a queue built after VACUUM ANALYZE of an
 * empty table). Two statements per batch instead of one per message is what makes it fast.
 *
 * Attempts: `attempts` counts every try ever made; a resend by the school office (sms-resend.ts) starts a new
 * round of `maxAttempts` from `attempts_before_resend`.
 *
 * Stopping: `requestStop()` lets the sends in flight finish, records them, and hands the claimed messages not
 * yet sent back to the queue at once (status 'queued', the attempt not counted) instead of leaving them to
 * their lease; `releaseHeld()` does the same for anything still claimed after an error.
 *
 * Crashes: a process dying between claim and send leaves the row 'sending' with a lease that expires; it is
 * then reclaimed and sent — not lost. The remaining edge is at-least-once: a crash AFTER the gateway accepted
 * the message but BEFORE step 3 committed sends it again after the lease (the Mitake provider passes
 * `clientid = sms-<id>` so the gateway itself refuses that repeat within 12 hours). The lease (default 5 min)
 * is far longer than the provider's timeout (10 s), so a live dispatcher never loses its claim mid-send.
 *
 * A verification message's code is blanked out of the stored body once it is sent or failed for good (unless
 * `keepVerificationCodes`: the development log provider outside production, so 簡訊發送紀錄 can show it).
 *
 * Time comes from the app clock (never the database's now()), so tests and APP_NOW agree.
 */
import type { Knex } from 'knex';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { SendResult, SmsProvider } from './providers/provider.js';
import type { SmsFailureCode } from './sms-words.js';
import { countSmsChanges } from '../reports/daily-figures.js';

export interface DispatcherOptions {
  knex: Knex;
  clock: Clock;
  provider: SmsProvider;
  logger?: Logger | undefined;
  /** Attempts after which a message is failed (SMS_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Rows claimed per batch. */
  batchSize?: number;
  /** How long a claim holds before another dispatcher may take the row over. */
  leaseMs?: number;
  /** First retry delay; doubles each attempt, capped at `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Messages sent at once within a batch. */
  concurrency?: number;
  /** Keep a verification code readable after it is sent (the log provider outside production only). */
  keepVerificationCodes?: boolean;
}

export interface ClaimedSms {
  id: number;
  kind?: string;
  phone: string;
  body: string;
  attempts: number;
  /** Where the current round of attempts started (after a resend). */
  attemptsBeforeResend?: number;
  /** The claim's lease: the outcome is written only while the row still carries it. */
  lease?: Date;
}

export interface BatchResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

export const DEFAULT_LEASE_MS = 5 * 60_000;
export const DEFAULT_BATCH_SIZE = 200;
export const DEFAULT_CONCURRENCY = 16;

/** Delay before attempt n+1 after n failed attempts: base · 2^(n-1), capped. */
export function backoffMs(attempts: number, baseMs = 30_000, maxMs = 60 * 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

type Outcome = 'sent' | 'retried' | 'failed';

interface OutcomeRow {
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

export class SmsDispatcher {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly concurrency: number;
  private stopping = false;
  /** Claims of this dispatcher whose outcome is not recorded yet (by id). */
  private readonly held = new Map<number, ClaimedSms>();

  constructor(private readonly o: DispatcherOptions) {
    this.batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.baseBackoffMs = o.baseBackoffMs ?? 30_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 60 * 60_000;
    this.concurrency = Math.max(1, o.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** Step 1: claim up to `limit` due rows in one statement (in a transaction only for its planner settings). */
  async claim(limit = this.batchSize): Promise<ClaimedSms[]> {
    const now = this.o.clock.now();
    const lease = new Date(now.getTime() + this.leaseMs);
    const res = await this.o.knex.transaction(async (trx) => {
      await trx.raw(KEY_LOOKUP_SETTINGS_SQL);
      return trx.raw<{
        rows: {
          id: number | string;
          kind: string;
          phone: string;
          body: string;
          attempts: number;
          attempts_before_resend: number;
        }[];
      }>(CLAIM_SQL, [now, limit, lease, lease, this.o.provider.name]);
    });
    const claimed = res.rows
      .map((r) => ({
        id: Number(r.id),
        kind: r.kind,
        phone: r.phone,
        body: r.body,
        attempts: r.attempts,
        attemptsBeforeResend: r.attempts_before_resend,
        lease,
      }))
      .sort((a, b) => a.id - b.id);
    for (const c of claimed) this.held.set(c.id, c);
    return claimed;
  }

  /** Step 2 for one message: the provider's answer, never a thrown error. */
  private async send(sms: ClaimedSms): Promise<SendResult> {
    try {
      return await this.o.provider.send({ id: sms.id, phone: sms.phone, body: sms.body });
    } catch (err) {
      // The exception's name is for operators (last_error); the page shows the code's words.
      return {
        ok: false,
        error: `provider error (${err instanceof Error ? err.name : 'unknown'})`,
        permanent: false,
        code: 'unknown',
      };
    }
  }

  private outcomeOf(sms: ClaimedSms, result: SendResult, now: Date): { outcome: Outcome; row: OutcomeRow } {
    const base = {
      id: sms.id,
      attempts: sms.attempts,
      lease: (sms.lease ?? new Date(0)).toISOString(),
      provider_message_id: null,
      sent_at: null,
      next_attempt_at: null,
      last_error: null,
      failure_code: null,
      body: null,
    };
    const round = sms.attempts - (sms.attemptsBeforeResend ?? 0);
    let outcome: Outcome;
    let row: OutcomeRow;
    if (result.ok) {
      outcome = 'sent';
      row = { ...base, status: 'sent', provider_message_id: result.providerMessageId, sent_at: now.toISOString() };
    } else if (result.permanent || round >= this.o.maxAttempts) {
      outcome = 'failed';
      row = { ...base, status: 'failed', last_error: result.error.slice(0, 500), failure_code: result.code };
      this.o.logger?.warn(
        { outboxId: sms.id, attempts: sms.attempts, permanent: result.permanent, failure: result.code },
        'sms failed',
      );
    } else {
      outcome = 'retried';
      const next = new Date(now.getTime() + backoffMs(round, this.baseBackoffMs, this.maxBackoffMs));
      row = {
        ...base,
        status: 'queued',
        next_attempt_at: next.toISOString(),
        last_error: result.error.slice(0, 500),
        failure_code: result.code,
      };
      this.o.logger?.info(
        { outboxId: sms.id, attempts: sms.attempts, failure: result.code, retryAt: next.toISOString() },
        'sms will be retried',
      );
    }
    // Once a verification code has gone out (or never will), the outbox need not keep it readable.
    if (outcome !== 'retried' && sms.kind === 'verification' && !this.o.keepVerificationCodes)
      row.body = sms.body.replace(/\d{6}/g, '******');
    return { outcome, row };
  }

  /** One statement under KEY_LOOKUP_SETTINGS_SQL. */
  private keyLookups(sql: string, bindings: unknown[]): Promise<{ rowCount: number }> {
    return this.o.knex.transaction(async (trx) => {
      await trx.raw(KEY_LOOKUP_SETTINGS_SQL);
      return trx.raw(sql, bindings as never) as unknown as Promise<{ rowCount: number }>;
    });
  }

  /**
   * Step 3: record outcomes in one statement; the fence drops any row whose claim this dispatcher lost. The rows
   * it did update were 'sending' under our claim: the school's daily figures count them as they are now, in the
   * same transaction (one more statement, only when a message was sent or failed).
   */
  private async record(rows: OutcomeRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.o.knex.transaction(async (trx) => {
      await trx.raw(KEY_LOOKUP_SETTINGS_SQL);
      const done = await trx.raw<{
        rows: { school_id: number | null; student_id: number | null; created_at: Date; status: string }[];
      }>(RECORD_SQL, [JSON.stringify(rows)]);
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
    for (const r of rows) this.held.delete(r.id);
  }

  /** Hand claimed, unsent messages back to the queue at once (their attempt not counted). */
  async release(claims: ClaimedSms[]): Promise<number> {
    if (claims.length === 0) return 0;
    const fence = claims.map((c) => ({
      id: c.id,
      attempts: c.attempts,
      lease: (c.lease ?? new Date(0)).toISOString(),
    }));
    const res = await this.keyLookups(RELEASE_SQL, [this.o.clock.now(), JSON.stringify(fence)]);
    for (const c of claims) this.held.delete(c.id);
    return res.rowCount ?? 0;
  }

  /** Release whatever this dispatcher still holds (after a failed batch, or when stopping). */
  async releaseHeld(): Promise<number> {
    return this.release([...this.held.values()]);
  }

  /** Finish the sends in flight, start no new one; the rest of the batch goes back to the queue. */
  requestStop(): void {
    this.stopping = true;
  }

  /** Steps 2 and 3 for one claimed row. */
  async deliver(sms: ClaimedSms): Promise<Outcome> {
    const { outcome, row } = this.outcomeOf(sms, await this.send(sms), this.o.clock.now());
    await this.record([row]);
    return outcome;
  }

  /** One batch: claim, send with bounded concurrency, record every outcome in one statement. */
  async runOnce(): Promise<BatchResult> {
    if (this.stopping) return { claimed: 0, sent: 0, retried: 0, failed: 0 };
    const claimed = await this.claim();
    const out: BatchResult = { claimed: claimed.length, sent: 0, retried: 0, failed: 0 };
    const rows: OutcomeRow[] = [];
    const unsent: ClaimedSms[] = [];
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const sms = claimed[next++]!;
        if (this.stopping) {
          unsent.push(sms);
          continue;
        }
        const result = await this.send(sms);
        const { outcome, row } = this.outcomeOf(sms, result, this.o.clock.now());
        rows.push(row);
        out[outcome] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, claimed.length) }, worker));
    await this.record(rows);
    await this.release(unsent);
    return out;
  }
}

/**
 * Run batches every `intervalMs` (immediately again while batches come back full). `stop()` lets the sends in
 * flight finish and records them, hands the rest of its claims back to the queue, then resolves.
 */
export function startDispatcherLoop(
  dispatcher: SmsDispatcher,
  o: { intervalMs: number; batchSize?: number; logger?: Logger | undefined },
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const full = o.batchSize ?? DEFAULT_BATCH_SIZE;

  const tick = () => {
    timer = undefined;
    if (stopped) return;
    current = (async () => {
      let again = false;
      try {
        const r = await dispatcher.runOnce();
        again = r.claimed >= full;
      } catch (err) {
        o.logger?.error({ err: err instanceof Error ? err.message : String(err) }, 'sms dispatcher batch failed');
        // Its claims would otherwise wait for their lease.
        await dispatcher.releaseHeld().catch(() => 0);
      }
      if (!stopped) timer = setTimeout(tick, again ? 0 : o.intervalMs);
    })();
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      dispatcher.requestStop();
      if (timer) clearTimeout(timer);
      await current;
      const released = await dispatcher.releaseHeld().catch(() => 0);
      if (released > 0) o.logger?.info({ released }, 'sms dispatcher released its claims');
    },
  };
}
