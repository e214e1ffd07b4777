/**
 * 簡訊發送紀錄: why a message failed, in words; the school office resends one failed message or a day's;
 * teachers see their class's messages and do not resend; a verification code in full only in the demo.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SmsDispatcher } from '../../src/domain/sms/dispatcher.js';
import { showsVerificationCodes } from '../../src/domain/sms/providers/index.js';
import { LogProvider } from '../../src/domain/sms/providers/log-provider.js';
import { mitakeFailureCode } from '../../src/domain/sms/providers/mitake-provider.js';
import type { OutgoingSms, SendResult, SmsProvider } from '../../src/domain/sms/providers/provider.js';
import { failureWords, SMS_FAILURE_CODES, SMS_FAILURE_LABELS } from '../../src/domain/sms/sms-words.js';
import { buildTestApp, getCsrf, signedIn, useTestApp } from '../support/app.js';
import { testDb } from '../support/db.js';
import { createSchool, createSchoolWorld, createStudent } from '../support/factories.js';
import { createOutbox } from '../support/sms-factories.js';

const { app, clock } = useTestApp();
const knex = testDb().knex;
const at = (iso: string) => new Date(iso);
const TODAY = '2026-11-24';

async function world() {
  const w = await createSchoolWorld(knex);
  const lee = await createStudent(knex, w.class402, { name: '李小華' });
  const failed = await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    kind: 'arrival',
    body: '【臺北市數位學生證】王小明已於07:42到校。',
    status: 'failed',
    attempts: 5,
    createdAt: at('2026-11-23T23:42:00Z'),
  });
  await knex('sms_outbox').where({ id: failed }).update({
    failure_code: 'invalid_number',
    last_error: "TypeError: Cannot read properties of undefined (reading 'x')",
  });
  const failed402 = await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: lee,
    kind: 'departure',
    phone: '0955666777',
    body: '【臺北市數位學生證】李小華已於16:05離校。',
    status: 'failed',
    attempts: 1,
    createdAt: at('2026-11-24T08:05:00Z'),
  });
  // failed before failure codes existed: no code
  const delivered = await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    kind: 'departure',
    body: '【臺北市數位學生證】王小明已於16:02離校。',
    status: 'delivered',
    attempts: 1,
    createdAt: at('2026-11-24T08:02:00Z'),
  });
  const retrying = await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    kind: 'message',
    body: '明天戶外教學，請準時到校。',
    status: 'queued',
    attempts: 1,
    createdAt: at('2026-11-24T00:10:00Z'),
  });
  await knex('sms_outbox').where({ id: retrying }).update({ failure_code: 'gateway_timeout' });
  const verification = await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    kind: 'verification',
    body: '【臺北市數位學生證】您的手機驗證碼為******，10分鐘內有效，請勿提供給他人。',
    status: 'failed',
    attempts: 5,
    createdAt: at('2026-11-24T00:20:00Z'),
  });
  const yesterday = await createOutbox(knex, {
    schoolId: w.schoolId,
    studentId: w.student,
    body: '昨天失敗的簡訊',
    status: 'failed',
    attempts: 5,
    createdAt: at('2026-11-23T01:00:00Z'),
  });
  const otherSchool = await createSchool(knex, { name: '市立仁愛國小' });
  const foreign = await createOutbox(knex, {
    schoolId: otherSchool,
    body: '別校失敗的簡訊',
    status: 'failed',
    attempts: 5,
    createdAt: at('2026-11-24T01:00:00Z'),
  });
  return { ...w, lee, failed, failed402, delivered, retrying, verification, yesterday, foreign };
}

const row = (id: number) => knex('sms_outbox').where({ id }).first();
const audits = () => knex('audit_log').where('action', 'like', 'sms.resend%').orderBy('id');

async function post(agent: Awaited<ReturnType<typeof signedIn>>, action: string, fields: Record<string, string>) {
  const token = await getCsrf(agent, `/sms/log?date=${TODAY}`);
  return agent
    .post(action)
    .type('form')
    .send({ _csrf: token, ...fields });
}

/** Sends everything due through `provider`, once. */
class Counting implements SmsProvider {
  readonly name = 'counting';
  calls: number[] = [];
  constructor(private readonly answer: (n: number) => SendResult = () => ({ ok: true, providerMessageId: 'c' })) {}
  async send(sms: OutgoingSms): Promise<SendResult> {
    this.calls.push(sms.id);
    return this.answer(this.calls.length);
  }
}

describe('failure words', () => {
  it('maps every documented Mitake error statuscode to words, an unknown one to the generic phrase', () => {
    expect(mitakeFailureCode('v')).toBe('invalid_number');
    expect(mitakeFailureCode('6')).toBe('invalid_number');
    expect(mitakeFailureCode('7')).toBe('number_suspended');
    expect(mitakeFailureCode('s')).toBe('insufficient_balance');
    expect(mitakeFailureCode('8')).toBe('undelivered');
    expect(mitakeFailureCode('e')).toBe('account_error');
    expect(mitakeFailureCode('r')).toBe('gateway_error');
    expect(mitakeFailureCode('Q')).toBe('unknown');
    for (const c of [
      '*',
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'h',
      'k',
      'm',
      'n',
      'p',
      'r',
      's',
      't',
      'u',
      'v',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]) {
      expect(mitakeFailureCode(c), c).not.toBe('unknown');
    }
    expect(failureWords('invalid_number')).toBe('號碼錯誤');
    expect(failureWords('number_suspended')).toBe('門號停用');
    expect(failureWords('gateway_timeout')).toBe('閘道逾時');
    expect(failureWords('insufficient_balance')).toBe('帳號餘額不足');
    expect(failureWords(null)).toBe(SMS_FAILURE_LABELS.unknown);
    expect(failureWords('TypeError')).toBe(SMS_FAILURE_LABELS.unknown);
    for (const c of SMS_FAILURE_CODES) expect(failureWords(c)).not.toMatch(/[A-Za-z]/);
  });

  it('the school office reads why each message failed, in words, never an exception name or a gateway code', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get(`/sms/log?date=${TODAY}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('失敗原因：號碼錯誤');
    expect(page.text).toContain(`失敗原因：${SMS_FAILURE_LABELS.unknown}`); // 李小華's, stored without a code
    expect(page.text).toContain('上次失敗：閘道逾時，將自動重試');
    expect(page.text).not.toContain('TypeError');
    expect(page.text).not.toContain('statuscode');
  });
});

describe('POST /sms/log/:id/resend', () => {
  it('puts a failed message back in the queue as a new round of the same row, audited, and it is sent once', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get(`/sms/log?date=${TODAY}&status=failed`);
    expect(page.text).toContain(`action="/sms/log/${w.failed}/resend"`);
    expect(page.text).not.toContain(`action="/sms/log/${w.verification}/resend"`); // a code is never resent
    expect(page.text).not.toContain(`action="/sms/log/${w.delivered}/resend"`);
    const before = await knex('sms_outbox').count({ n: '*' }).first();

    const res = await post(admin, `/sms/log/${w.failed}/resend`, { date: TODAY });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/sms/log?date=${TODAY}&status=failed`);
    const after = await admin.get(res.headers.location!);
    expect(after.text).toContain('已重新排入發送：1 則簡訊');

    expect(await row(w.failed)).toMatchObject({
      status: 'queued',
      attempts: 5,
      attempts_before_resend: 5,
      failure_code: null,
      last_error: null,
      claimed_until: null,
    });
    expect(new Date((await row(w.failed)).next_attempt_at).getTime()).toBe(clock.now().getTime());
    expect(await knex('sms_outbox').count({ n: '*' }).first()).toEqual(before); // no second copy
    const [a] = await audits();
    expect(a).toMatchObject({
      action: 'sms.resend',
      target_type: 'sms_outbox',
      target_id: String(w.failed),
      actor_account_id: w.admin,
      school_id: w.schoolId,
    });

    const provider = new Counting();
    const d = new SmsDispatcher({ knex, clock, provider, maxAttempts: 5 });
    await d.runOnce();
    await d.runOnce();
    expect(provider.calls.filter((id) => id === w.failed)).toEqual([w.failed]);
    expect(await row(w.failed)).toMatchObject({ status: 'sent', attempts: 6 });

    // Now sent: a second resend is refused and changes nothing.
    const again = await post(admin, `/sms/log/${w.failed}/resend`, { date: TODAY });
    expect(again.status).toBe(303);
    expect((await admin.get(again.headers.location!)).text).toContain(
      '這則簡訊目前是「已發送」，只有「發送失敗」的簡訊可以重新發送。',
    );
    expect(await row(w.failed)).toMatchObject({ status: 'sent', attempts: 6 });
    expect(await audits()).toHaveLength(1);
  });

  it('a resend gets a full round of attempts again, while attempts keeps counting every try', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    await post(admin, `/sms/log/${w.failed}/resend`, { date: TODAY });
    await knex('sms_outbox').whereNot({ id: w.failed }).update({ status: 'delivered' });
    const d = new SmsDispatcher({
      knex,
      clock,
      provider: new Counting(() => ({ ok: false, error: 'HTTP 503', permanent: false, code: 'gateway_error' })),
      maxAttempts: 2,
      baseBackoffMs: 1000,
    });
    expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 }); // 6th try, 1st of the round: retried
    expect(await row(w.failed)).toMatchObject({ status: 'queued', attempts: 6, failure_code: 'gateway_error' });
    clock.advance(1000);
    expect(await d.runOnce()).toMatchObject({ claimed: 1, failed: 1 }); // 2nd of the round: failed
    expect(await row(w.failed)).toMatchObject({ status: 'failed', attempts: 7, failure_code: 'gateway_error' });
    expect((await admin.get(`/sms/log?date=${TODAY}`)).text).toContain('失敗原因：簡訊閘道暫時無法服務');
  });

  it('refuses to resend a delivered message, a queued one or a verification code, with a clear message, and changes nothing', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    for (const [id, words] of [
      [w.delivered, '這則簡訊目前是「已送達」，只有「發送失敗」的簡訊可以重新發送。'],
      [w.retrying, '這則簡訊目前是「待發送」，只有「發送失敗」的簡訊可以重新發送。'],
      [w.verification, '手機驗證碼簡訊不能重新發送'],
    ] as const) {
      const before = await row(id);
      const res = await post(admin, `/sms/log/${id}/resend`, { date: TODAY });
      expect(res.status).toBe(303);
      expect((await admin.get(res.headers.location!)).text).toContain(words);
      expect(await row(id)).toEqual(before);
    }
    expect(await audits()).toHaveLength(0);
  });

  it("another school's message, a teacher, a parent, a junk id: 404 and nothing changes", async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const foreignBefore = await row(w.foreign);
    expect((await post(admin, `/sms/log/${w.foreign}/resend`, { date: TODAY })).status).toBe(404);
    expect((await post(admin, '/sms/log/999999/resend', { date: TODAY })).status).toBe(404);
    expect((await post(admin, '/sms/log/abc/resend', { date: TODAY })).status).toBe(404);
    expect(await row(w.foreign)).toEqual(foreignBefore);

    // Teachers see their class's messages but do not resend (the school office runs the service).
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const failedBefore = await row(w.failed);
    expect((await post(teacher, `/sms/log/${w.failed}/resend`, { date: TODAY })).status).toBe(404);
    expect((await post(teacher, '/sms/log/resend', { date: TODAY })).status).toBe(404);
    expect(await row(w.failed)).toEqual(failedBefore);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(
      (await parent.post(`/sms/log/${w.failed}/resend`).type('form').send({ date: TODAY })).status,
    ).toBeGreaterThanOrEqual(403);
    expect(await row(w.failed)).toEqual(failedBefore);
    expect(await audits()).toHaveLength(0);
  });

  it('refuses a missing or foreign CSRF token and a bad date, changing nothing', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const before = await row(w.failed);
    expect((await admin.post(`/sms/log/${w.failed}/resend`).type('form').send({ date: TODAY })).status).toBe(403);
    expect(
      (await admin.post(`/sms/log/${w.failed}/resend`).type('form').send({ date: TODAY, _csrf: 'forged' })).status,
    ).toBe(403);
    expect((await admin.post('/sms/log/resend').type('form').send({ date: TODAY })).status).toBe(403);
    const bad = await post(admin, '/sms/log/resend', { date: '2026-13-40' });
    expect(bad.status).toBe(303);
    expect((await admin.get(bad.headers.location!)).text).toContain('無法重新發送：');
    const extra = await post(admin, `/sms/log/${w.failed}/resend`, { date: TODAY, status: 'queued' });
    expect((await admin.get(extra.headers.location!)).text).toContain('無法重新發送：表單');
    expect(await row(w.failed)).toEqual(before);
    expect(await knex('sms_outbox').where({ status: 'failed' }).count({ n: '*' }).first()).toEqual({ n: 5 });
  });
});

describe('POST /sms/log/resend (a day)', () => {
  it("requeues the day's failed messages of the school only (not a code, not another day, not another school), audited once", async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get(`/sms/log?date=${TODAY}`);
    expect(page.text).toContain(`重新發送 ${TODAY} 所有發送失敗的簡訊（3 則）`);
    const res = await post(admin, '/sms/log/resend', { date: TODAY });
    expect(res.status).toBe(303);
    expect((await admin.get(res.headers.location!)).text).toContain(`已將 ${TODAY} 的 2 則失敗簡訊重新排入發送`);
    expect((await row(w.failed)).status).toBe('queued');
    expect((await row(w.failed402)).status).toBe('queued');
    expect((await row(w.verification)).status).toBe('failed');
    expect((await row(w.yesterday)).status).toBe('failed');
    expect((await row(w.foreign)).status).toBe('failed');
    expect((await row(w.delivered)).status).toBe('delivered');
    const rows = await audits();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'sms.resend_day', school_id: w.schoolId });
    const details = typeof rows[0].details === 'string' ? JSON.parse(rows[0].details) : rows[0].details;
    expect(details).toEqual({ date: TODAY, count: 2, ids: [w.failed, w.failed402].sort((a, b) => a - b) });

    // Nothing left to resend that day: said so, nothing changes.
    const again = await post(admin, '/sms/log/resend', { date: TODAY });
    expect((await admin.get(again.headers.location!)).text).toContain(`${TODAY} 沒有可重新發送的失敗簡訊。`);
    expect(await audits()).toHaveLength(1);
  });
});

describe('teachers and the SMS status of their class', () => {
  it("a teacher sees the status and failure words of the class's messages, never another class's, and no resend button", async () => {
    const w = await world();
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const page = await teacher.get(`/sms/log?date=${TODAY}`);
    expect(page.text).toContain('王小明已於07:42到校');
    expect(page.text).toContain('失敗原因：號碼錯誤');
    expect(page.text).not.toContain('李小華');
    expect(page.text).not.toContain('/resend');
    const other = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't402' });
    const theirs = await other.get(`/sms/log?date=${TODAY}`);
    expect(theirs.text).toContain('李小華已於16:05離校');
    expect(theirs.text).not.toContain('王小明');
  });
});

describe('the demo can be finished', () => {
  it('with the log provider outside production the verification code shows in full; with a real provider or in production it does not', async () => {
    const w = await createSchoolWorld(knex);
    await createOutbox(knex, {
      schoolId: w.schoolId,
      studentId: w.student,
      kind: 'verification',
      body: '【臺北市數位學生證】您的手機驗證碼為482913，10分鐘內有效，請勿提供給他人。',
      createdAt: at('2026-11-24T00:30:00Z'),
    });
    const d = new SmsDispatcher({
      knex,
      clock,
      provider: new LogProvider(),
      maxAttempts: 5,
      keepVerificationCodes: true,
    });
    await d.runOnce();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get(`/sms/log?date=${TODAY}`);
    expect(page.text).toContain('您的手機驗證碼為482913');
    expect(page.text).toContain('手機驗證碼完整顯示');

    const real = buildTestApp({
      env: {
        SMS_PROVIDER: 'mitake',
        MITAKE_URL: 'http://127.0.0.1:1/api/mtk/SmSend',
        MITAKE_USERNAME: 'u',
        MITAKE_PASSWORD: 'p',
      },
    });
    try {
      const office = await signedIn(real.app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
      const masked = await office.get(`/sms/log?date=${TODAY}`);
      expect(masked.text).toContain('您的手機驗證碼為******');
      expect(masked.text).not.toContain('482913');
    } finally {
      await real.app.shutdown();
    }
    const prodEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x:y@127.0.0.1:5432/z',
      SESSION_SECRET: 'x'.repeat(40),
      PUBLIC_URL: 'https://portal.example',
      OIDC_ISSUER: 'https://idp.example',
      OIDC_CLIENT_ID: 'c',
      OIDC_CLIENT_SECRET: 's',
    };
    expect(showsVerificationCodes(loadConfig({ NODE_ENV: 'development' }))).toBe(true);
    expect(showsVerificationCodes(loadConfig(prodEnv))).toBe(false);
    expect(
      showsVerificationCodes(
        loadConfig({
          NODE_ENV: 'development',
          SMS_PROVIDER: 'mitake',
          MITAKE_URL: 'https://gw.example/x',
          MITAKE_USERNAME: 'u',
          MITAKE_PASSWORD: 'p',
        }),
      ),
    ).toBe(false);
  });
});
