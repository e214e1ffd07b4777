/**
 * The SMS dispatcher: delivers sms_outbox rows through a provider.
 *
 * 1. CLAIM (one short transaction): due rows — `status in ('queued','sending') and next_attempt_at <= now`
 *    (a 'sending' row is due only when its lease has run out: the claim sets next_attempt_at = claimed_until)
 *    — are locked with `FOR UPDATE SKIP LOCKED` and marked 'sending' with a lease, `attempts + 1`. Another
 *    dispatcher (another process) skips locked rows and, once this commits, no longer sees them as due: each
 *    row is claimed by one dispatcher at a time.
 * 2. SEND outside any transaction (a slow gateway holds no lock and no connection).
 * 3. RECORD: 'sent' with the provider's id and sent_at; or back to 'queued' with exponential backoff; or
 *    'failed' (a permanent error, or the last allowed attempt). The update is fenced on
 *    `status = 'sending' and attempts = <our attempt>`, so a dispatcher whose lease ran out cannot overwrite
 *    the outcome of the one that reclaimed the row.
 *
 * Crashes: a process dying between claim and send leaves the row 'sending' with a lease that expires; it is
 * then reclaimed and sent — not lost. The remaining edge is at-least-once: a crash AFTER the gateway accepted
 * the message but BEFORE step 3 committed sends it again after the lease (the Mitake provider passes
 * `clientid = sms-<id>` so the gateway itself refuses that repeat within 12 hours). The lease (default 5 min)
 * is far longer than the provider's timeout (10 s), so a live dispatcher never loses its claim mid-send.
 *
 * A verification message's code is blanked out of the stored body once it is sent or failed for good.
 *
 * Time comes from the app clock (never the database's now()), so tests and APP_NOW agree.
 */
import type { Knex } from 'knex';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { SmsProvider } from './providers/provider.js';

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
}

export interface ClaimedSms {
  id: number;
  kind?: string;
  phone: string;
  body: string;
  attempts: number;
}

export interface BatchResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

export const DEFAULT_LEASE_MS = 5 * 60_000;

/** Delay before attempt n+1 after n failed attempts: base · 2^(n-1), capped. */
export function backoffMs(attempts: number, baseMs = 30_000, maxMs = 60 * 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export class SmsDispatcher {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly concurrency: number;

  constructor(private readonly o: DispatcherOptions) {
    this.batchSize = o.batchSize ?? 50;
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.baseBackoffMs = o.baseBackoffMs ?? 30_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 60 * 60_000;
    this.concurrency = Math.max(1, o.concurrency ?? 4);
  }

  /** Step 1: claim up to `limit` due rows in one short transaction. */
  async claim(limit = this.batchSize): Promise<ClaimedSms[]> {
    const now = this.o.clock.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    return this.o.knex.transaction(async (trx) => {
      const due = trx('sms_outbox')
        .select('id')
        .whereIn('status', ['queued', 'sending'])
        .where('next_attempt_at', '<=', now)
        .where((w) => w.where('status', 'queued').orWhereNull('claimed_until').orWhere('claimed_until', '<=', now))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked();
      const rows: { id: number | string; kind: string; phone: string; body: string; attempts: number }[] = await trx('sms_outbox')
        .whereIn('id', due)
        .update({
          status: 'sending',
          claimed_until: leaseUntil,
          next_attempt_at: leaseUntil,
          attempts: trx.raw('attempts + 1'),
          provider: this.o.provider.name,
        })
        .returning(['id', 'kind', 'phone', 'body', 'attempts']);
      return rows.map((r) => ({ id: Number(r.id), kind: r.kind, phone: r.phone, body: r.body, attempts: r.attempts })).sort((a, b) => a.id - b.id);
    });
  }

  /** Steps 2 and 3 for one claimed row. */
  async deliver(sms: ClaimedSms): Promise<'sent' | 'retried' | 'failed'> {
    let result;
    try {
      result = await this.o.provider.send({ id: sms.id, phone: sms.phone, body: sms.body });
    } catch (err) {
      result = { ok: false as const, error: err instanceof Error ? err.message.slice(0, 200) : 'error', permanent: false };
    }
    const now = this.o.clock.now();
    const fence = { id: sms.id, status: 'sending', attempts: sms.attempts };
    let outcome: 'sent' | 'retried' | 'failed';
    let change: Record<string, unknown>;
    if (result.ok) {
      outcome = 'sent';
      change = { status: 'sent', provider_message_id: result.providerMessageId, sent_at: now, last_error: null };
    } else if (result.permanent || sms.attempts >= this.o.maxAttempts) {
      outcome = 'failed';
      change = { status: 'failed', last_error: result.error.slice(0, 500) };
      this.o.logger?.warn({ outboxId: sms.id, attempts: sms.attempts, permanent: result.permanent }, 'sms failed');
    } else {
      outcome = 'retried';
      const next = new Date(now.getTime() + backoffMs(sms.attempts, this.baseBackoffMs, this.maxBackoffMs));
      change = { status: 'queued', next_attempt_at: next, last_error: result.error.slice(0, 500) };
      this.o.logger?.info({ outboxId: sms.id, attempts: sms.attempts, retryAt: next.toISOString() }, 'sms will be retried');
    }
    // Once a verification code has gone out (or never will), the outbox need not keep it readable.
    if (outcome !== 'retried' && sms.kind === 'verification') change.body = sms.body.replace(/\d{6}/g, '******');
    await this.o.knex('sms_outbox').where(fence).update({ ...change, claimed_until: null });
    return outcome;
  }

  /** One batch: claim, send, record. */
  async runOnce(): Promise<BatchResult> {
    const claimed = await this.claim();
    const out: BatchResult = { claimed: claimed.length, sent: 0, retried: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const sms = claimed[next++]!;
        const r = await this.deliver(sms);
        out[r] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, claimed.length) }, worker));
    return out;
  }
}

/**
 * Run batches every `intervalMs` (immediately again while batches come back full). `stop()` lets the batch
 * in progress finish, then resolves.
 */
export function startDispatcherLoop(
  dispatcher: SmsDispatcher,
  o: { intervalMs: number; batchSize?: number; logger?: Logger | undefined },
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const full = o.batchSize ?? 50;

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
      }
      if (!stopped) timer = setTimeout(tick, again ? 0 : o.intervalMs);
    })();
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
