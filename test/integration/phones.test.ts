import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createParent, createSchoolWorld, createStudent } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';
import { loadCurrentUser } from '../../src/domain/accounts/current-user.js';
import { addPhone } from '../../src/domain/phones/phone-service.js';
import { SCRIPT_ACTOR } from '../../src/domain/audit.js';

const { app, clock } = useTestApp();
const knex = testDb().knex;

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number((await knex(table).where(where).count({ n: '*' }).first())?.n);

/** The code in the latest verification SMS to a number (what the parent reads on the phone). */
async function lastCode(number = '0912345678'): Promise<string> {
  const row = await knex('sms_outbox').where({ kind: 'verification', phone: number }).orderBy('id', 'desc').first();
  const m = /驗證碼為(\d{6})/.exec(row?.body ?? '');
  if (!m?.[1]) throw new Error('no code sent');
  return m[1];
}

async function parentWorld() {
  const w = await createSchoolWorld(knex);
  const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
  return { ...w, agent };
}

const wrongOf = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('到離校簡訊註冊服務 (parent)', () => {
  it('adds a number typed in full-width digits, stores it normalised and sends a code by SMS', async () => {
    const w = await parentWorld();
    const page = await w.agent.get('/sms/phones');
    expect(page.status).toBe(200);
    expect(page.text).toContain('到離校簡訊註冊服務');
    expect(page.text).toContain('王小明');
    expect(page.text).toContain('尚未註冊手機號碼');

    const res = await postForm(w.agent, '/sms/phones', '/sms/phones', {
      studentId: String(w.student),
      number: '０９１２－３４５－６７８',
    });
    expect(res.status).toBe(303);
    const phone = await knex('phones').first();
    expect(phone).toMatchObject({
      student_id: w.student,
      number: '0912345678',
      verified_at: null,
      code_attempts: 0,
      registered_by_account_id: w.parent.accountId,
    });
    const sms = await knex('sms_outbox').where({ kind: 'verification' }).first();
    expect(sms).toMatchObject({ phone: '0912345678', student_id: w.student, school_id: w.schoolId, status: 'queued' });
    expect(sms.body).toMatch(/^【臺北市數位學生證】您的手機驗證碼為\d{6}，10分鐘內有效，請勿提供給他人。$/);
    expect(Array.from(sms.body as string).length).toBeLessThanOrEqual(70);
    const code = await lastCode();
    expect(phone.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(phone.code_hash).not.toContain(code);

    const after = await w.agent.get('/sms/phones');
    expect(after.text).toContain('驗證碼已用簡訊傳送到這支手機');
    expect(after.text).toContain('0912-345-678');
    expect(after.text).toContain('待驗證');
    expect(after.text).not.toContain(phone.code_hash);
    expect(after.text).not.toContain(code);
  });

  it('refuses what is not a Taiwanese mobile number with an example, and changes nothing', async () => {
    const w = await parentWorld();
    for (const bad of ['02-2720-8889', '12345', '0912-345-67x', '']) {
      const res = await postForm(w.agent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: bad });
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/請輸入(台灣)?手機號碼，例如 0912-345-678/);
    }
    const arr = await postForm(w.agent, '/sms/phones', '/sms/phones', {
      studentId: String(w.student),
      number: ['0912345678', '0922333444'],
    });
    expect(arr.status).toBe(422);
    const extra = await postForm(w.agent, '/sms/phones', '/sms/phones', {
      studentId: String(w.student),
      number: '0912345678',
      verified_at: '2026-01-01',
    });
    expect(extra.status).toBe(422);
    expect(await count('phones')).toBe(0);
    expect(await count('sms_outbox')).toBe(0);
  });

  it('allows at most 3 numbers per child and no duplicate', async () => {
    const w = await parentWorld();
    for (const n of ['0912345678', '0922333444', '0933444555']) {
      expect(
        (await postForm(w.agent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: n })).status,
      ).toBe(303);
    }
    const page = await w.agent.get('/sms/phones');
    expect(page.text).toContain('已註冊 3 支手機號碼（上限）');
    const fourth = await w.agent
      .post('/sms/phones')
      .type('form')
      .send({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1],
        studentId: String(w.student),
        number: '0944555666',
      });
    expect(fourth.status).toBe(422);
    expect(fourth.text).toContain('每位學生最多註冊 3 支手機號碼');
    expect(await count('phones')).toBe(3);

    await knex('phones').where({ number: '0933444555' }).del();
    const dup = await postForm(w.agent, '/sms/phones', '/sms/phones', {
      studentId: String(w.student),
      number: '+886-912-345-678',
    });
    expect(dup.status).toBe(422);
    expect(dup.text).toContain('此手機號碼已經註冊');
    expect(await count('phones')).toBe(2);
  });

  it('keeps the limit of 3 under concurrent additions (row lock on the student)', async () => {
    const w = await createSchoolWorld(knex);
    const user = (await loadCurrentUser(knex, { accountId: w.parent.accountId }))!;
    const c = { knex, user, now: clock.now(), secret: 'test-secret-test-secret-test-secret', actor: SCRIPT_ACTOR };
    const numbers = ['0911000001', '0911000002', '0911000003', '0911000004', '0911000005'];
    const results = await Promise.all(numbers.map((n) => addPhone(c, w.student, n)));
    expect(results.filter((r) => r?.ok)).toHaveLength(3);
    expect(results.filter((r) => r && !r.ok && r.error.kind === 'limit')).toHaveLength(2);
    expect(await count('phones')).toBe(3);
    expect(await count('sms_outbox')).toBe(3);
  });

  it('verifies with the right code; only then does the number receive notices', async () => {
    const w = await parentWorld();
    await postForm(w.agent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: '0912345678' });
    const phone = await knex('phones').first();
    const res = await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/verification`, {
      code: await lastCode(),
    });
    expect(res.status).toBe(303);
    const verified = await knex('phones').where({ id: phone.id }).first();
    expect(new Date(verified.verified_at).toISOString()).toBe('2026-11-24T01:00:00.000Z');
    expect(verified.code_hash).toBeNull();
    const page = await w.agent.get('/sms/phones');
    expect(page.text).toContain('已完成驗證，之後會收到到離校簡訊');
    expect(page.text).toContain('已驗證');
  });

  it('refuses an expired code (10 minutes) and allows a new one', async () => {
    const w = await parentWorld();
    await postForm(w.agent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: '0912345678' });
    const phone = await knex('phones').first();
    const code = await lastCode();
    clock.advance(10 * 60_000);
    const late = await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/verification`, { code });
    expect(late.status).toBe(422);
    expect(late.text).toContain('驗證碼已過期');
    expect((await knex('phones').where({ id: phone.id }).first()).verified_at).toBeNull();

    const resent = await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/code`, {});
    expect(resent.status).toBe(303);
    const fresh = await lastCode();
    expect(await count('sms_outbox', { kind: 'verification' })).toBe(2);
    expect(
      (await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/verification`, { code: fresh })).status,
    ).toBe(303);
    expect((await knex('phones').where({ id: phone.id }).first()).verified_at).not.toBeNull();
  });

  it('allows 5 tries; after that even the right code needs a new one', async () => {
    const w = await parentWorld();
    await postForm(w.agent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: '0912345678' });
    const phone = await knex('phones').first();
    const code = await lastCode();
    for (let i = 1; i <= 5; i++) {
      const res = await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/verification`, {
        code: wrongOf(code),
      });
      expect(res.status).toBe(422);
      if (i < 5) expect(res.text).toContain(`還可以再試 ${5 - i} 次`);
      else expect(res.text).toContain('錯誤次數過多');
    }
    const right = await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/verification`, { code });
    expect(right.status).toBe(422);
    expect(right.text).toContain('錯誤次數過多');
    expect(await knex('phones').where({ id: phone.id }).first()).toMatchObject({ verified_at: null, code_attempts: 5 });

    // A new code is rate-limited to once a minute.
    const tooSoon = await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/code`, {});
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.text).toContain('秒後再試');
    expect(await count('sms_outbox', { kind: 'verification' })).toBe(1);
    clock.advance(60_000);
    expect((await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/code`, {})).status).toBe(303);
    expect((await knex('phones').where({ id: phone.id }).first()).code_attempts).toBe(0);
    expect(
      (await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/verification`, { code: await lastCode() }))
        .status,
    ).toBe(303);
  });

  it('removing and adding a number again does not reset its code limits (one a minute, 10 a day per number)', async () => {
    const w = await parentWorld();
    const add = () =>
      postForm(w.agent, '/sms/phones', '/sms/phones', { studentId: String(w.student), number: '0987654321' });
    const remove = async () => {
      const phone = await knex('phones').first('id');
      expect((await postForm(w.agent, '/sms/phones', `/sms/phones/${phone.id}/deletion`, {})).status).toBe(303);
    };
    expect((await add()).status).toBe(303);
    await remove();
    const again = await add();
    expect(again.status).toBe(429);
    expect(again.text).toContain('秒後再試');
    expect(await count('phones')).toBe(0);
    expect(await count('sms_outbox', { kind: 'verification' })).toBe(1);
    for (let i = 2; i <= 10; i++) {
      clock.advance(61_000);
      expect((await add()).status, `code ${i}`).toBe(303);
      await remove();
    }
    clock.advance(61_000);
    const eleventh = await add();
    expect(eleventh.status).toBe(429);
    expect(eleventh.text).toContain('今天已傳送太多次驗證碼');
    expect(await count('sms_outbox', { kind: 'verification' })).toBe(10);
    expect(await count('phones')).toBe(0);
  });

  it('removes a number', async () => {
    const w = await parentWorld();
    const id = await createPhone(knex, w.student);
    const res = await postForm(w.agent, '/sms/phones', `/sms/phones/${id}/deletion`, {});
    expect(res.status).toBe(303);
    expect(await count('phones')).toBe(0);
    expect((await w.agent.get('/sms/phones')).text).toContain('已刪除 0912-345-678');
    const logged = await knex('audit_log').where({ action: 'phone.removed' }).first();
    expect(JSON.stringify(logged.details)).toContain('0912-***-678');
    expect(JSON.stringify(logged.details)).not.toContain('0912345678');
  });

  it("another family's phone or child answers 404 and nothing changes", async () => {
    const w = await parentWorld();
    const otherChild = await createStudent(knex, w.class402, { name: '李小華' });
    await createParent(knex, [otherChild], { name: '李家長' });
    const theirs = await createPhone(knex, otherChild, { number: '0955666777', verified: false });
    await knex('phones')
      .where({ id: theirs })
      .update({ code_hash: 'a'.repeat(64), code_expires_at: new Date('2026-11-24T01:05:00Z') });
    const before = await knex('phones').where({ id: theirs }).first();

    for (const [action, fields] of [
      [`/sms/phones/${theirs}/verification`, { code: '123456' }],
      [`/sms/phones/${theirs}/code`, {}],
      [`/sms/phones/${theirs}/deletion`, {}],
      ['/sms/phones/999999/deletion', {}],
      ['/sms/phones/abc/deletion', {}],
    ] as const) {
      const res = await postForm(w.agent, '/sms/phones', action, fields);
      expect(res.status, action).toBe(404);
    }
    const add = await postForm(w.agent, '/sms/phones', '/sms/phones', {
      studentId: String(otherChild),
      number: '0912345678',
    });
    expect(add.status).toBe(404);
    expect(await knex('phones').where({ id: theirs }).first()).toEqual(before);
    expect(await count('phones')).toBe(1);
    expect(await count('sms_outbox')).toBe(0);
    expect((await w.agent.get('/sms/phones')).text).not.toContain('0955-666-777');
  });

  it('does not change state on GET', async () => {
    const w = await parentWorld();
    const id = await createPhone(knex, w.student);
    for (const path of [`/sms/phones/${id}/deletion`, `/sms/phones/${id}/code`, `/sms/phones/${id}/verification`]) {
      expect((await w.agent.get(path)).status).toBe(404);
    }
    expect(await count('phones')).toBe(1);
  });
});

describe('到離校簡訊註冊服務 (staff)', () => {
  it('shows the class teacher masked numbers only, and nothing of other classes', async () => {
    const w = await createSchoolWorld(knex);
    await createPhone(knex, w.student, { number: '0912345678' });
    const other = await createStudent(knex, w.class402, { name: '李小華' });
    await createPhone(knex, other, { number: '0955666777', verified: false });

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const page = await teacher.get('/sms/phones');
    expect(page.status).toBe(200);
    expect(page.text).toContain('王小明');
    expect(page.text).toContain('0912-***-678（已驗證）');
    expect(page.text).not.toContain('0912345678');
    expect(page.text).not.toContain('0912-345-678');
    expect(page.text).not.toContain('李小華');
    const foreign = await teacher.get(`/sms/phones?classId=${w.class402}`);
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain('李小華');
    expect(foreign.text).not.toMatch(/0955-\*\*\*-|0955[0-9]{6}/);

    const add = await postForm(teacher, '/sms/phones', '/sms/phones', {
      studentId: String(w.student),
      number: '0922333444',
    });
    expect(add.status).toBe(404);
    expect(await count('phones')).toBe(2);

    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const adminPage = await admin.get(`/sms/phones?classId=${w.class402}`);
    expect(adminPage.text).toContain('李小華');
    expect(adminPage.text).toContain('0955-***-777（待驗證）');
    expect(adminPage.text).not.toContain('0955666777');
  });
});
