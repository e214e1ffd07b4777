import { PassThrough } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { CAPTCHA, login } from '../support/app.js';
import { createSchoolWorld, PASSWORD } from '../support/factories.js';

const lines: string[] = [];
const sink = new PassThrough();
sink.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
const config = loadConfig({ NODE_ENV: 'test', CAPTCHA_FIXED_TEXT: CAPTCHA, SMS_DISPATCHER: 'false' });
const app = createApp({
  config,
  db: testDb(),
  clock: new FixedClock('2026-11-24T01:00:00Z'),
  logger: createLogger('trace', sink),
});

afterAll(async () => {
  await app.shutdown();
  await closeTestDb();
});
beforeEach(() => resetDb());

describe('secrets never reach the logs', () => {
  it('after failed and successful sign-ins the log has no password, captcha answer or session id', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = request.agent(app);
    await login(agent, { schoolId: w.schoolId, login: '11301001', password: 'Wrong-Secret-99' });
    const ok = await login(agent, { schoolId: w.schoolId, login: '11301001' });
    expect(ok.status).toBe(303);
    const sid = /sid=([^;]+)/.exec(String(ok.headers['set-cookie']))?.[1];
    expect(sid).toBeTruthy();
    await agent.get('/');
    const log = lines.join('');
    expect(log.length).toBeGreaterThan(0);
    expect(log).toContain('signed in');
    for (const secret of [PASSWORD, 'Wrong-Secret-99', `"${CAPTCHA}"`, sid!, decodeURIComponent(sid!)]) {
      expect(log).not.toContain(secret);
    }
  });
});
