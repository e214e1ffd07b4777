import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { connect } from '../../src/db/connection.js';
import { backoffMs, SmsDispatcher, startDispatcherLoop } from '../../src/domain/sms/dispatcher.js';
import { LogProvider } from '../../src/domain/sms/providers/log-provider.js';
import type { OutgoingSms, SendResult, SmsProvider } from '../../src/domain/sms/providers/provider.js';
import { loadConfig } from '../../src/config.js';
import { startBackgroundJobs } from '../../src/jobs.js';
import { createLogger } from '../../src/logger.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createOutbox } from '../support/sms-factories.js';

const knex = testDb().knex;
afterAll(() => closeTestDb());
beforeEach(() => resetDb());

const NOW = '2026-11-24T01:00:00Z';

/** Counts every send per outbox id; optionally fails by a script. */
class CountingProvider implements SmsProvider {
  readonly name = 'counting';
  calls = new Map<number, number>();
  constructor(
    private readonly script: (sms: OutgoingSms, n: number) => SendResult | Promise<SendResult> = (s) => ({
      ok: true,
      providerMessageId: `c-${s.id}`,
    }),
  ) {}
  async send(sms: OutgoingSms): Promise<SendResult> {
    const n = (this.calls.get(sms.id) ?? 0) + 1;
    this.calls.set(sms.id, n);
    await new Promise((r) => setImmediate(r)); // let the other dispatcher interleave
    return this.script(sms, n);
  }
  total() {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}

describe('the SMS dispatcher', () => {
  it('sends a queued message through the log provider and records it', async () => {
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date('2026-11-24T00:59:00Z') });
    const later = await createOutbox(knex, { nextAttemptAt: new Date('2026-11-24T01:05:00Z') });
    const d = new SmsDispatcher({ knex, clock, provider: new LogProvider(), maxAttempts: 5 });
    expect(await d.runOnce()).toEqual({ claimed: 1, sent: 1, retried: 0, failed: 0 });
    const row = await knex('sms_outbox').where({ id }).first();
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      provider: 'log',
      provider_message_id: `log-${id}`,
      claimed_until: null,
    });
    expect(new Date(row.sent_at).toISOString()).toBe('2026-11-24T01:00:00.000Z');
    expect((await knex('sms_outbox').where({ id: later }).first()).status).toBe('queued'); // not yet due
    expect(await d.runOnce()).toMatchObject({ claimed: 0 });
  });

  it('retries a failure with exponential backoff and marks it failed after the last attempt', async () => {
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const provider = new CountingProvider(() => ({
      ok: false,
      error: 'gateway down',
      permanent: false,
      code: 'gateway_error' as const,
    }));
    const d = new SmsDispatcher({ knex, clock, provider, maxAttempts: 3 });

    expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    let row = await knex('sms_outbox').where({ id }).first();
    expect(row).toMatchObject({ status: 'queued', attempts: 1, last_error: 'gateway down' });
    expect(new Date(row.next_attempt_at).getTime()).toBe(Date.parse(NOW) + backoffMs(1));
    expect(await d.runOnce()).toMatchObject({ claimed: 0 }); // not before the backoff

    clock.advance(backoffMs(1));
    expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    row = await knex('sms_outbox').where({ id }).first();
    expect(new Date(row.next_attempt_at).getTime()).toBe(clock.now().getTime() + backoffMs(2));
    expect(backoffMs(2)).toBe(2 * backoffMs(1));

    clock.advance(backoffMs(2));
    expect(await d.runOnce()).toMatchObject({ claimed: 1, failed: 1 });
    row = await knex('sms_outbox').where({ id }).first();
    expect(row).toMatchObject({ status: 'failed', attempts: 3, last_error: 'gateway down', claimed_until: null });
    clock.advance(24 * 3600_000);
    expect(await d.runOnce()).toMatchObject({ claimed: 0 });
    expect(provider.calls.get(id)).toBe(3);
  });

  it('fails a permanent error at once', async () => {
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const d = new SmsDispatcher({
      knex,
      clock,
      provider: new CountingProvider(() => ({
        ok: false,
        error: 'bad number',
        permanent: true,
        code: 'invalid_number' as const,
      })),
      maxAttempts: 5,
    });
    expect(await d.runOnce()).toMatchObject({ failed: 1 });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('a crash between claim and send leaves the message to be retried after the lease: not lost, not doubled', async () => {
    const clock = new FixedClock(NOW);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await createOutbox(knex, { nextAttemptAt: new Date(NOW) }));
    const provider = new CountingProvider();
    const crashed = new SmsDispatcher({ knex, clock, provider, maxAttempts: 5, leaseMs: 60_000 });
    const survivor = new SmsDispatcher({ knex, clock, provider, maxAttempts: 5, leaseMs: 60_000 });

    const claimed = await crashed.claim(); // ...and the process dies here: nothing sent
    expect(claimed.map((c) => c.id)).toEqual(ids);
    expect(await knex('sms_outbox').whereIn('id', ids).pluck('status')).toEqual(['sending', 'sending', 'sending']);

    expect(await survivor.runOnce()).toMatchObject({ claimed: 0 }); // the lease still holds
    clock.advance(60_000);
    expect(await survivor.runOnce()).toEqual({ claimed: 3, sent: 3, retried: 0, failed: 0 });
    const rows = await knex('sms_outbox').whereIn('id', ids).orderBy('id');
    for (const r of rows) expect(r).toMatchObject({ status: 'sent', attempts: 2, provider_message_id: `c-${r.id}` });
    for (const id of ids) expect(provider.calls.get(id)).toBe(1);
    clock.advance(3600_000);
    expect(await survivor.runOnce()).toMatchObject({ claimed: 0 });
    expect(provider.total()).toBe(3);
  });

  it('a late outcome of an expired claim does not overwrite the outcome of the dispatcher that took it over', async () => {
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const slow = new SmsDispatcher({
      knex,
      clock,
      provider: new CountingProvider(() => ({
        ok: false,
        error: 'timeout',
        permanent: false,
        code: 'gateway_timeout' as const,
      })),
      maxAttempts: 5,
      leaseMs: 1000,
    });
    const [claim] = await slow.claim();
    clock.advance(1000);
    const fast = new SmsDispatcher({ knex, clock, provider: new CountingProvider(), maxAttempts: 5, leaseMs: 1000 });
    expect(await fast.runOnce()).toMatchObject({ sent: 1 });
    await slow.deliver(claim!);
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('two dispatchers on separate connection pools send 1,000 queued messages, each exactly once', async () => {
    const clock = new FixedClock(NOW);
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      kind: 'message',
      phone: `09${String(10_000_000 + i).slice(-8)}`,
      body: `測試訊息 ${i}`,
      status: 'queued',
      next_attempt_at: new Date('2026-11-24T00:00:00Z'),
    }));
    for (let i = 0; i < rows.length; i += 250) await knex('sms_outbox').insert(rows.slice(i, i + 250));

    const provider = new CountingProvider();
    const other = connect(inject('databaseUrl'), { dbPoolMax: 3, dbStatementTimeoutMs: 30_000 });
    try {
      const a = new SmsDispatcher({ knex, clock, provider, maxAttempts: 5, batchSize: 40 });
      const b = new SmsDispatcher({ knex: other.knex, clock, provider, maxAttempts: 5, batchSize: 40 });
      const perDispatcher = { a: 0, b: 0 };
      const drain = async (d: SmsDispatcher, key: 'a' | 'b') => {
        for (;;) {
          const r = await d.runOnce();
          perDispatcher[key] += r.sent;
          if (r.claimed === 0) {
            const left = await knex.raw<{ rows: { n: number }[] }>(
              "select count(*)::int as n from sms_outbox where status in ('queued','sending')",
            );
            if (left.rows[0]?.n === 0) return;
          }
        }
      };
      await Promise.all([drain(a, 'a'), drain(b, 'b')]);

      expect(provider.calls.size).toBe(1000);
      expect([...provider.calls.values()].every((n) => n === 1)).toBe(true);
      expect(perDispatcher.a + perDispatcher.b).toBe(1000);
      expect(perDispatcher.a).toBeGreaterThan(0);
      expect(perDispatcher.b).toBeGreaterThan(0);
      const summary = await knex('sms_outbox')
        .select('status', 'attempts')
        .count({ n: '*' })
        .groupBy('status', 'attempts');
      expect(summary).toEqual([{ status: 'sent', attempts: 1, n: 1000 }]);
    } finally {
      await other.knex.destroy();
    }
  });

  it('the loop sends what is due and stop() waits for the batch in progress', async () => {
    const clock = new FixedClock(NOW);
    for (let i = 0; i < 5; i++) await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const provider = new CountingProvider(async (s) => {
      started += 1;
      await gate;
      return { ok: true, providerMessageId: `c-${s.id}` };
    });
    const loop = startDispatcherLoop(new SmsDispatcher({ knex, clock, provider, maxAttempts: 5, concurrency: 5 }), {
      intervalMs: 50,
    });
    while (started < 5) await new Promise((r) => setTimeout(r, 5));
    const stopping = loop.stop();
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false); // still sending
    release();
    await stopping;
    expect(await knex('sms_outbox').where({ status: 'sent' }).count({ n: '*' }).first()).toEqual({ n: 5 });
  });

  it('startBackgroundJobs runs the dispatcher when SMS_DISPATCHER is true, and not when false', async () => {
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const off = startBackgroundJobs({
      config: loadConfig({ NODE_ENV: 'test', SMS_DISPATCHER: 'false' }),
      db: testDb(),
      clock,
      logger: createLogger('silent'),
    });
    await new Promise((r) => setTimeout(r, 100));
    await off.stop();
    expect((await knex('sms_outbox').where({ id }).first()).status).toBe('queued');

    const jobs = startBackgroundJobs({
      config: loadConfig({ NODE_ENV: 'test', SMS_DISPATCHER: 'true', SMS_DISPATCH_INTERVAL_MS: '50' }),
      db: testDb(),
      clock,
      logger: createLogger('silent'),
    });
    try {
      for (let i = 0; i < 200; i++) {
        if ((await knex('sms_outbox').where({ id }).first()).status === 'sent') break;
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      await jobs.stop();
    }
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'sent',
      provider: 'log',
      provider_message_id: `log-${id}`,
    });
  });
});

describe('stopping the dispatcher', () => {
  it('stop() records the send in flight and hands the rest of its claimed batch back to the queue at once', async () => {
    const clock = new FixedClock(NOW);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createOutbox(knex, { nextAttemptAt: new Date(NOW) }));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const provider = new CountingProvider(async (s) => {
      started += 1;
      await gate;
      return { ok: true, providerMessageId: `c-${s.id}` };
    });
    const loop = startDispatcherLoop(
      new SmsDispatcher({ knex, clock, provider, maxAttempts: 5, concurrency: 1, batchSize: 5 }),
      { intervalMs: 50, batchSize: 5 },
    );
    while (started < 1) await new Promise((r) => setTimeout(r, 5));
    expect(await knex('sms_outbox').where({ status: 'sending' }).count({ n: '*' }).first()).toEqual({ n: 5 });
    const stopping = loop.stop();
    release();
    await stopping;
    expect(provider.total()).toBe(1);
    const rows = await knex('sms_outbox').orderBy('id');
    expect(rows[0]).toMatchObject({ status: 'sent', attempts: 1, claimed_until: null });
    for (const r of rows.slice(1)) {
      expect(r).toMatchObject({ status: 'queued', attempts: 0, claimed_until: null });
      expect(new Date(r.next_attempt_at).toISOString()).toBe(new Date(NOW).toISOString()); // due now, not after a lease
    }
    // Another dispatcher picks them up at once.
    const next = new SmsDispatcher({ knex, clock, provider: new CountingProvider(), maxAttempts: 5 });
    expect(await next.runOnce()).toMatchObject({ claimed: 4, sent: 4 });
  });

  it('records the failure code a provider gives, and "unknown" when the provider throws', async () => {
    const clock = new FixedClock(NOW);
    const a = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const b = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const provider = new CountingProvider((s) => {
      if (s.id === b) throw new TypeError('boom');
      return { ok: false, error: '三竹 statuscode=7', permanent: true, code: 'number_suspended' };
    });
    await new SmsDispatcher({ knex, clock, provider, maxAttempts: 1 }).runOnce();
    expect(await knex('sms_outbox').where({ id: a }).first()).toMatchObject({
      status: 'failed',
      failure_code: 'number_suspended',
    });
    expect(await knex('sms_outbox').where({ id: b }).first()).toMatchObject({
      status: 'failed',
      failure_code: 'unknown',
    });
  });
});
