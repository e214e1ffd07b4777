/** Two portal processes with their SMS dispatchers drain 1,200 queued messages: each is sent exactly once. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { sleep, startPortal } from './support.js';

const MESSAGES = 1200;
beforeAll(() => resetDb());
afterAll(() => closeTestDb());

describe('two processes draining the SMS outbox', () => {
  it(`send each of ${MESSAGES} messages once, then stop cleanly on SIGTERM`, { timeout: 180_000 }, async () => {
    const knex = testDb().knex;
    const rows = Array.from({ length: MESSAGES }, (_, i) => ({
      kind: 'message',
      phone: `09${String(10_000_000 + i).slice(-8)}`,
      body: `測試訊息 ${i}`,
      status: 'queued',
      next_attempt_at: new Date('2026-01-01T00:00:00Z'),
    }));
    // Both processes are up before anything is queued, and a batch is small: a dispatcher drains 2,000+ SMS/s, so
    // with the whole queue waiting at start-up the first process ready could send it all before the second polls.
    const env = {
      DATABASE_URL: inject('databaseUrl'),
      SMS_DISPATCHER: 'true',
      SMS_DISPATCH_INTERVAL_MS: '50',
      SMS_DISPATCH_BATCH_SIZE: '10',
    };
    const [a, b] = await Promise.all([startPortal(env), startPortal(env)]);
    for (let i = 0; i < rows.length; i += 300) await knex('sms_outbox').insert(rows.slice(i, i + 300));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [{ n }] = (await knex('sms_outbox').whereIn('status', ['queued', 'sending']).count({ n: '*' })) as [
        { n: number },
      ];
      if (Number(n) === 0) break;
      if (Date.now() > deadline) throw new Error(`${n} messages still waiting`);
      await sleep(250);
    }
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(await b.exited).toEqual({ code: 0, signal: null });

    const sentBy = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.includes('"msg":"sms (log provider)"'))
        .map((l) => (JSON.parse(l) as { outboxId: number }).outboxId);
    const byA = sentBy(a.output());
    const byB = sentBy(b.output());
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    const all = [...byA, ...byB];
    expect(all).toHaveLength(MESSAGES);
    expect(new Set(all).size).toBe(MESSAGES);
    const summary = await knex('sms_outbox')
      .select('status', 'attempts')
      .count({ n: '*' })
      .groupBy('status', 'attempts');
    expect(summary).toEqual([{ status: 'sent', attempts: 1, n: MESSAGES }]);
  });
});
