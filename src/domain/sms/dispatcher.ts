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
 * The statements themselves (claim, outcome, release) are outbox-status.ts's, the one writer of an SMS's state:
 * key lookups whatever the statistics say (test/integration/dispatcher-plans.test.ts checks the plans on a queue
 * built after VACUUM ANALYZE of an empty table). Two statements per batch instead of one per message is what
 * makes it fast.
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
import { claimDue, recordOutcomes, releaseClaims, type OutcomeRow } from './outbox-status.js';

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
    const rows = await claimDue(this.o.knex, { now, limit, lease, provider: this.o.provider.name });
    const claimed = rows
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

  /**
   * Step 3: record outcomes in one statement; the fence drops any row whose claim this dispatcher lost (the
   * school's daily figures move in the same transaction: outbox-status.ts).
   */
  private async record(rows: OutcomeRow[]): Promise<void> {
    if (rows.length === 0) return;
    await recordOutcomes(this.o.knex, rows);
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
    const released = await releaseClaims(this.o.knex, this.o.clock.now(), fence);
    for (const c of claims) this.held.delete(c.id);
    return released;
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
