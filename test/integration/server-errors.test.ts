import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { connect } from '../../src/db/connection.js';
import { createLogger } from '../../src/logger.js';
import { buildTestApp, DEFAULT_NOW } from '../support/app.js';
import { closeTestDb, testDb } from '../support/db.js';

const logger = createLogger('silent');
const clock = new FixedClock(DEFAULT_NOW);
// The production settings of a test run: what matters here is that error pages are built as in production.
const production: Config = Object.freeze({
  ...loadConfig({ NODE_ENV: 'test' }),
  env: 'production',
  isProduction: true,
});
const development: Config = Object.freeze({
  ...loadConfig({ NODE_ENV: 'test' }),
  env: 'development',
  isProduction: false,
});

const prodApp = createApp({ config: production, db: testDb(), clock, logger });
const devApp = createApp({ config: development, db: testDb(), clock, logger });
const { app: testApp } = buildTestApp();
// A database nobody listens on: port 1 on loopback refuses every connection at once.
const deadDb = connect('postgres://postgres:postgres@127.0.0.1:1/postgres', {
  dbPoolMax: 1,
  dbStatementTimeoutMs: 1000,
});
const deadApp = createApp({ config: production, db: deadDb, clock, logger });

afterAll(async () => {
  for (const a of [prodApp, devApp, testApp, deadApp]) await a.shutdown();
  await deadDb.knex.destroy();
  await closeTestDb();
});

/** Make every page that lists the districts fail with a real SQL error (relation does not exist), then undo it. */
async function withBrokenTable<T>(fn: () => Promise<T>): Promise<T> {
  const { knex } = testDb();
  await knex.raw('alter table districts rename to districts_hidden_by_test');
  try {
    return await fn();
  } finally {
    await knex.raw('alter table districts_hidden_by_test rename to districts');
  }
}

describe('error pages', () => {
  it('answers an unknown path with the zh-TW 404 page', async () => {
    const res = await request(prodApp).get('/no/such/page');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('找不到網頁');
    expect(res.text).toContain('錯誤代碼：404');
    expect(res.text).toContain('臺北市政府');
  });

  it('answers a failing handler with the zh-TW 500 page and no stack trace in production', async () => {
    const res = await withBrokenTable(() => request(prodApp).get('/login'));
    expect(res.status).toBe(500);
    expect(res.text).toContain('系統發生錯誤');
    expect(res.text).toContain('錯誤代碼：500');
    expect(res.text).not.toContain('class="stack"');
    expect(res.text).not.toMatch(/districts_hidden_by_test|relation .* does not exist|at .*\.ts:\d+/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('shows the stack trace of the same failure only in development', async () => {
    const res = await withBrokenTable(() => request(devApp).get('/login'));
    expect(res.status).toBe(500);
    expect(res.text).toContain('class="stack"');
    expect(res.text).toMatch(/does not exist/);
  });

  it('answers the same failure in test mode without a stack', async () => {
    const res = await withBrokenTable(() => request(testApp).get('/login'));
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('class="stack"');
  });

  it('answers 503 (not 500) when the database is unreachable', async () => {
    const res = await request(deadApp).get('/login');
    expect(res.status).toBe(503);
    expect(res.text).toContain('系統暫時無法服務');
    expect(res.headers['retry-after']).toBe('5');
  });
});

describe('/healthz and /readyz', () => {
  it('/readyz answers 200 when the database answers', async () => {
    const res = await request(prodApp).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok' });
  });

  it('/readyz answers 503 when the database is unreachable, while /healthz still answers 200', async () => {
    const ready = await request(deadApp).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'unavailable', database: 'unreachable' });
    expect(ready.headers['cache-control']).toBe('no-store');
    const health = await request(deadApp).get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
  });
});
