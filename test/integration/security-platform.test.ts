import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { connect } from '../../src/db/connection.js';
import { createLogger } from '../../src/logger.js';
import { testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';

const { app } = useTestApp();

function expectSecurityHeaders(res: request.Response) {
  const csp = res.headers['content-security-policy'] as string;
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(res.headers['referrer-policy']).toBe('same-origin');
  expect(res.headers['x-powered-by']).toBeUndefined();
}

describe('security headers on every kind of response', () => {
  it('the login page, a signed-in page, a 404 and a 403 all carry them', async () => {
    const w = await createSchoolWorld(testDb().knex);
    expectSecurityHeaders(await request(app).get('/login'));
    expectSecurityHeaders(await request(app).get('/nowhere'));
    expectSecurityHeaders(await request(app).post('/login').type('form').send({ a: '1' }));
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const home = await agent.get('/');
    expectSecurityHeaders(home);
    expect(home.headers['cache-control']).toBe('no-store');
  });
});

describe('body limits', () => {
  it('a 1 MB form is refused with 413 and the zh-TW page', async () => {
    const res = await request(app)
      .post('/login')
      .type('form')
      .send(`a=${'x'.repeat(1024 * 1024)}`);
    expect(res.status).toBe(413);
    expect(res.text).toContain('送出的資料過大');
  });

  it('a form with 5,000 fields is refused with 413', async () => {
    const body = Array.from({ length: 5000 }, (_, i) => `f${i}=1`).join('&');
    const res = await request(app).post('/login').type('form').send(body);
    expect(res.status).toBe(413);
    expect(res.text).toContain('送出的資料過大');
  });
});

describe('cross-site requests', () => {
  it('refuses a POST that the browser marks cross-site, before looking at anything else', async () => {
    const res = await request(app)
      .post('/login')
      .set('Sec-Fetch-Site', 'cross-site')
      .type('form')
      .send({ role: 'parent' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('此要求來源不明');
  });

  it('refuses a POST from a foreign Origin when there is no Fetch Metadata', async () => {
    const res = await request(app)
      .post('/login')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ role: 'parent' });
    expect(res.status).toBe(403);
  });
});

describe('the database is down', () => {
  it('answers a zh-TW 503 quickly (no hang) and /readyz says unavailable, while /healthz stays up', async () => {
    const deadDb = connect('postgres://postgres:postgres@127.0.0.1:1/none', {
      dbPoolMax: 2,
      dbStatementTimeoutMs: 1000,
    });
    const config = loadConfig({ NODE_ENV: 'test' });
    const down = createApp({
      config,
      db: deadDb,
      clock: new FixedClock('2026-11-24T01:00:00Z'),
      logger: createLogger('silent'),
    });
    try {
      expect((await request(down).get('/healthz')).status).toBe(200);
      expect((await request(down).get('/readyz')).status).toBe(503);
      const page = await request(down).get('/login');
      expect(page.status).toBe(503);
      expect(page.text).toContain('系統暫時無法連線資料庫');
      expect(page.headers['retry-after']).toBe('5');
    } finally {
      await down.shutdown();
      await deadDb.knex.destroy();
    }
  });
});
