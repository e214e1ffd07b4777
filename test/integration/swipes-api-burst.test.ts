/**
 * The reader API under a burst: 32 readers posting 500-swipe batches at once. With the default
 * limits every batch is served; against a deliberately small pool and queue every batch gets 200 or 503 with
 * Retry-After in the API's error shape — never a hang, never a 500 — and only the 200s stored anything.
 */
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { connect } from '../../src/db/connection.js';
import { createLogger } from '../../src/logger.js';
import { testDb } from '../support/db.js';
import { useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { createReaderToken } from '../support/attendance-factories.js';

const NOW = '2026-11-23T23:50:00Z'; // Tuesday 07:50 Taipei
const t = useTestApp({ now: NOW });
const knex = () => testDb().knex;
const READERS = 32;

async function readers(n: number): Promise<string[]> {
  const w = await createSchoolWorld(knex());
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push((await createReaderToken(knex(), w.schoolId, `門${i}`)).token);
  return tokens;
}
const batch = (reader: number) => ({
  swipes: Array.from({ length: 500 }, (_, i) => ({
    event_id: `r${reader}-${i}`,
    card_uid: `C${reader}X${i}`,
    swiped_at: `2026-11-24T07:${String(10 + (i % 40)).padStart(2, '0')}:00+08:00`,
  })),
});
const storedSwipes = async () => Number(((await knex()('swipes').count({ n: '*' })) as [{ n: string }])[0].n);

describe('POST /api/v1/swipes under a burst', () => {
  it('serves 32 readers posting at once with the default limits', async () => {
    const tokens = await readers(READERS);
    expect(t.config.readerApi.concurrency).toBeGreaterThanOrEqual(1);
    const res = await Promise.all(
      tokens.map((tok, i) =>
        request(t.app).post('/api/v1/swipes').set('Authorization', `Bearer ${tok}`).send(batch(i)),
      ),
    );
    expect(res.map((r) => r.status)).toEqual(tokens.map(() => 200));
    expect(res.reduce((a, r) => a + (r.body.accepted as number), 0)).toBe(READERS * 500);
    expect(await storedSwipes()).toBe(READERS * 500);
  }, 120_000);

  describe('against a small pool and a short queue', () => {
    const db = connect(inject('databaseUrl'), { dbPoolMax: 2, dbStatementTimeoutMs: 30_000 });
    const config = loadConfig({
      NODE_ENV: 'test',
      SMS_DISPATCHER: 'false',
      DB_POOL_MAX: '2',
      READER_API_CONCURRENCY: '1',
      READER_API_QUEUE: '4',
      READER_API_QUEUE_WAIT_MS: '300',
    });
    const small = createApp({ config, db, clock: new FixedClock(NOW), logger: createLogger('silent') });
    afterAll(async () => {
      await small.shutdown();
      await db.knex.destroy();
    });

    it('answers every batch 200 or 503 with Retry-After (never a hang or a 500), and stores only what it answered 200', async () => {
      const tokens = await readers(READERS);
      const res = await Promise.all(
        tokens.map((tok, i) =>
          request(small).post('/api/v1/swipes').set('Authorization', `Bearer ${tok}`).send(batch(i)),
        ),
      );
      const statuses = res.map((r) => r.status);
      expect(
        statuses.every((s) => s === 200 || s === 503),
        statuses.join(','),
      ).toBe(true);
      const ok = res.filter((r) => r.status === 200);
      const shed = res.filter((r) => r.status === 503);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(shed.length).toBeGreaterThanOrEqual(1);
      for (const r of shed) {
        expect(r.headers['retry-after']).toBe('5');
        expect(r.body).toEqual({
          error: { status: 503, code: 'busy', message: expect.stringContaining('nothing was stored') },
        });
      }
      expect(await storedSwipes()).toBe(ok.length * 500);
      // The shed readers send again and are served.
      const again = [];
      for (const [i, r] of res.entries())
        if (r.status === 503)
          again.push(
            await request(small).post('/api/v1/swipes').set('Authorization', `Bearer ${tokens[i]}`).send(batch(i)),
          );
      expect(again.map((r) => r.status)).toEqual(shed.map(() => 200));
      expect(await storedSwipes()).toBe(READERS * 500);
    }, 120_000);
  });
});
