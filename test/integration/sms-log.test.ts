import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { AppDeps } from '../../src/deps.js';
import { SmsDispatcher } from '../../src/domain/sms/dispatcher.js';
import { LogProvider } from '../../src/domain/sms/providers/log-provider.js';
import { showsVerificationCodes } from '../../src/domain/sms/providers/index.js';
import { createLogger } from '../../src/logger.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { CAPTCHA, postForm, signedIn } from '../support/app.js';
import { createSchool, createSchoolWorld, createStudent } from '../support/factories.js';
import { createOutbox } from '../support/sms-factories.js';

const knex = testDb().knex;
let logged = '';
const sink = new Writable({
  write(chunk, _enc, cb) {
    logged += String(chunk);
    cb();
  },
});
const clock = new FixedClock('2026-11-24T01:00:00Z');
const logger = createLogger('info', sink);
const deps: AppDeps = {
  config: loadConfig({ NODE_ENV: 'test', CAPTCHA_FIXED_TEXT: CAPTCHA, SMS_DISPATCHER: 'false' }),
  db: testDb(),
  clock,
  logger,
};
const app = createApp(deps);
afterAll(async () => {
  await app.shutdown();
  await closeTestDb();
});
beforeEach(async () => {
  await resetDb();
  clock.set('2026-11-24T01:00:00Z');
  logged = '';
});

const at = (iso: string) => new Date(iso);

async function world() {
  const w = await createSchoolWorld(knex);
  const other = await createStudent(knex, w.class402, { name: '李小華' });
  await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    kind: 'arrival',
    phone: '0912345678',
    body: '【臺北市數位學生證】王小明已於07:42到校。',
    status: 'sent',
    attempts: 1,
    createdAt: at('2026-11-23T23:42:00Z'),
  });
  await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: other,
    kind: 'departure',
    phone: '0955666777',
    body: '【臺北市數位學生證】李小華已於16:05離校。',
    status: 'failed',
    attempts: 5,
    createdAt: at('2026-11-24T08:05:00Z'),
  });
  await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    kind: 'verification',
    phone: '0912345678',
    body: '【臺北市數位學生證】您的手機驗證碼為482913，10分鐘內有效，請勿提供給他人。',
    status: 'queued',
    createdAt: at('2026-11-24T00:30:00Z'),
  });
  // Another day, and another school.
  await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    body: '昨天的簡訊',
    createdAt: at('2026-11-23T01:00:00Z'),
  });
  const otherSchool = await createSchool(knex, { name: '市立仁愛國小' });
  await createOutbox(knex, { schoolId: otherSchool, body: '別校的簡訊', createdAt: at('2026-11-24T01:00:00Z') });
  return { ...w, other };
}

describe('簡訊發送紀錄', () => {
  it("shows the school admin the day's SMS with masked numbers, bodies, attempts and zh-TW status", async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get('/sms/log');
    expect(page.status).toBe(200);
    expect(page.text).toContain('簡訊發送紀錄');
    expect(page.text).toContain('【臺北市數位學生證】王小明已於07:42到校。');
    expect(page.text).toContain('【臺北市數位學生證】李小華已於16:05離校。');
    expect(page.text).toContain('0912-***-678');
    expect(page.text).toContain('0955-***-777');
    expect(page.text).not.toContain('0912345678');
    expect(page.text).not.toContain('0955666777');
    for (const label of ['已發送', '發送失敗', '待發送']) expect(page.text).toContain(label);
    // The demo (log provider, not production) shows the code so a person trying it can verify a number;
    // sms-resend.test.ts checks it stays masked with a real provider or in production.
    expect(page.text).toContain('您的手機驗證碼為482913');
    expect(page.text).not.toContain('昨天的簡訊');
    expect(page.text).not.toContain('別校的簡訊');
    expect(page.text).toContain('紀錄模式');

    const failed = await admin.get('/sms/log?date=2026-11-24&status=failed');
    expect(failed.text).toContain('李小華已於16:05離校');
    expect(failed.text).not.toContain('王小明已於07:42到校');
    const byClass = await admin.get(`/sms/log?date=2026-11-24&classId=${w.class401}&status=`);
    expect(byClass.text).toContain('王小明已於07:42到校');
    expect(byClass.text).not.toContain('李小華已於16:05離校');
    const yesterday = await admin.get('/sms/log?date=2026-11-23');
    expect(yesterday.text).toContain('昨天的簡訊');
    expect(yesterday.text).not.toContain('王小明已於07:42到校');
  });

  it("shows a teacher their classes' SMS only; parents do not have the page", async () => {
    const w = await world();
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const page = await teacher.get('/sms/log');
    expect(page.text).toContain('王小明已於07:42到校');
    expect(page.text).not.toContain('李小華');
    const foreign = await teacher.get(`/sms/log?classId=${w.class402}`);
    expect(foreign.status).toBe(200);
    expect(foreign.text).not.toContain('李小華已於16:05離校');
    expect(foreign.text).toContain('查無資料');

    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await parent.get('/sms/log')).status).toBe(404);
  });

  it('answers junk filters with 400 and a message, never 500', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    for (const q of [
      'status=nope',
      'date=2026-13-40',
      'classId=abc',
      'status=sent&status=failed',
      'page=0',
      'extra=1',
      'date=%00',
    ]) {
      const res = await admin.get(`/sms/log?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.text).toContain('查詢條件有誤');
    }
  });

  it('end to end: a parent adds a number, the log provider "sends" the code, the log shows it, no log line has the number', async () => {
    const w = await createSchoolWorld(knex);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(
      (await postForm(parent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: '0912 345 678' }))
        .status,
    ).toBe(303);
    const queued = await knex('sms_outbox').first();
    const code = /驗證碼為(\d{6})/.exec(queued.body)![1]!;
    const d = new SmsDispatcher({
      knex,
      clock,
      provider: new LogProvider(logger),
      maxAttempts: 5,
      keepVerificationCodes: showsVerificationCodes(deps.config),
    });
    expect(await d.runOnce()).toMatchObject({ sent: 1 });
    const row = await knex('sms_outbox').first();
    expect(row.body).toBe(`【臺北市數位學生證】您的手機驗證碼為${code}，10分鐘內有效，請勿提供給他人。`);
    expect(row).toMatchObject({ status: 'sent', provider: 'log', provider_message_id: `log-${row.id}` });

    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get('/sms/log');
    expect(page.text).toContain(`您的手機驗證碼為${code}`);
    expect(page.text).toContain('已發送');
    expect(page.text).toContain('0912-***-678');
    expect(logged).toContain('sms (log provider)');
    expect(logged).not.toContain('0912345678');
    expect(logged).not.toContain('0912 345 678');
    expect(logged).not.toContain(code);
  });

  it('is quiet to anonymous visitors', async () => {
    expect((await request(app).get('/sms/log')).status).toBe(303);
  });
});
