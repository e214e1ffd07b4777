/** 我的帳號: forced password change, password change, the child switcher, and the teacher's parent-password reset. */
import bcrypt from 'bcrypt';
import request from 'supertest';
import type { Agent } from 'supertest';
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { csrfFrom, getCsrf, locationOf, login, postForm, signedIn, useTestApp } from '../support/app.js';
import {
  addChild,
  createParent,
  createSchool,
  createSchoolWorld,
  createClass,
  createStaff,
  createStudent,
  PASSWORD,
} from '../support/factories.js';

const { app } = useTestApp();

const changePassword = (agent: Agent, fields: Record<string, string>) =>
  postForm(agent, '/account/password', '/account/password', fields);
const hashOf = async (accountId: number) =>
  (await testDb().knex('accounts').where({ id: accountId }).first('password_hash')).password_hash as string;

describe('a school-issued password', () => {
  it('forces 變更密碼 before anything else, until it is changed', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    await knex('accounts').where({ id: w.parent.accountId }).update({ must_change_password: true });
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    for (const path of ['/', '/account', '/sms', '/attendance', '/account/parent-passwords']) {
      const res = await agent.get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.location).toBe('/account/password');
    }
    const page = await agent.get('/account/password');
    expect(page.status).toBe(200);
    expect(page.text).toContain('請先設定您自己的新密碼');
    expect(page.text).toContain('<label for="currentPassword">目前的密碼</label>');
    // The child switcher is a POST elsewhere: also refused until the password is changed.
    const sw = await agent
      .post('/account/current-student')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), studentId: String(w.student) });
    expect(sw.status).toBe(303);
    expect(sw.headers.location).toBe('/account/password');

    const res = await changePassword(agent, {
      currentPassword: PASSWORD,
      newPassword: 'my-new-pass-1',
      confirmPassword: 'my-new-pass-1',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
    const account = await agent.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain('密碼已變更');
    expect((await agent.get('/')).status).toBe(200);
    expect(await knex('accounts').where({ id: w.parent.accountId }).first('must_change_password')).toEqual({
      must_change_password: false,
    });
  });
});

describe('變更密碼', () => {
  it('refuses a bad change with a clear message and changes nothing', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const before = await hashOf(w.parent.accountId);
    const cases: [Record<string, unknown>, string][] = [
      [{ currentPassword: 'wrong-pass', newPassword: 'abcdefgh1', confirmPassword: 'abcdefgh1' }, '目前的密碼不正確'],
      [{ currentPassword: PASSWORD, newPassword: 'short', confirmPassword: 'short' }, '新密碼至少需要 8 個字元'],
      [{ currentPassword: PASSWORD, newPassword: 'a'.repeat(73), confirmPassword: 'a'.repeat(73) }, '新密碼過長'],
      [{ currentPassword: PASSWORD, newPassword: '密碼'.repeat(13), confirmPassword: '密碼'.repeat(13) }, '新密碼過長'],
      [{ currentPassword: PASSWORD, newPassword: PASSWORD, confirmPassword: PASSWORD }, '新密碼不可與目前的密碼相同'],
      [{ currentPassword: PASSWORD, newPassword: 'abcdefgh1', confirmPassword: 'abcdefgh2' }, '兩次輸入的新密碼不相同'],
      [
        { currentPassword: PASSWORD, newPassword: 'abc\u0000defgh', confirmPassword: 'abc\u0000defgh' },
        '新密碼含有不允許的字元',
      ],
      [
        { currentPassword: [PASSWORD, PASSWORD], newPassword: 'abcdefgh1', confirmPassword: 'abcdefgh1' },
        '請輸入目前的密碼',
      ],
      [
        { currentPassword: PASSWORD, newPassword: 'abcdefgh1', confirmPassword: 'abcdefgh1', role: 'school_admin' },
        '表單含有不允許的欄位',
      ],
      [{ currentPassword: '', newPassword: '', confirmPassword: '' }, '請輸入目前的密碼'],
    ];
    for (const [fields, message] of cases) {
      const res = await changePassword(agent, fields as Record<string, string>);
      expect(res.status, message).toBe(422);
      expect(res.text).toContain(message);
    }
    expect(await hashOf(w.parent.accountId)).toBe(before);
    // Exactly 72 bytes is accepted.
    const ok = await changePassword(agent, {
      currentPassword: PASSWORD,
      newPassword: 'b'.repeat(72),
      confirmPassword: 'b'.repeat(72),
    });
    expect(ok.status).toBe(303);
    expect(await bcrypt.compare('b'.repeat(72), await hashOf(w.parent.accountId))).toBe(true);
  });

  it('ends the other sessions of the account, rotates this one, and is audited without the password', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const other = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const otherFamily = await createParent(knex, [
      await createStudent(knex, w.class401, { studentNumber: '11301002', seat: 2 }),
    ]);
    const unrelated = await signedIn(app, { schoolId: w.schoolId, login: otherFamily.login });
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const before = await knex('session').pluck('sid');
    const res = await changePassword(agent, {
      currentPassword: PASSWORD,
      newPassword: 'brand-new-pass',
      confirmPassword: 'brand-new-pass',
    });
    expect(res.status).toBe(303);
    const sid = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sid='));
    expect(sid).toBeDefined();
    expect((await agent.get('/account')).status).toBe(200);
    expect((await other.get('/')).status).toBe(303);
    expect((await unrelated.get('/')).status).toBe(200);
    const after = await knex('session').pluck('sid');
    expect(after.filter((s) => before.includes(s))).toHaveLength(1); // only the unrelated family's session stayed
    const entry = await knex('audit_log').where({ action: 'password.changed' }).first();
    expect(entry.actor_account_id).toBe(w.parent.accountId);
    expect(JSON.stringify(entry)).not.toContain('brand-new-pass');
    // The new password works, the old one does not.
    expect((await login(request.agent(app), { schoolId: w.schoolId, login: '11301001' })).status).toBe(422);
    expect(
      (await login(request.agent(app), { schoolId: w.schoolId, login: '11301001', password: 'brand-new-pass' })).status,
    ).toBe(303);
  });
});

describe('我的帳號 and the child switcher', () => {
  it('shows the linked children and switches between them; another child is 404', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const sibling = await createStudent(knex, w.class402, { name: '王小華', studentNumber: '11301009', seat: 9 });
    await addChild(knex, w.parent.guardianId, sibling);
    const stranger = await createStudent(knex, w.class401, { name: '陳小美', studentNumber: '11301002', seat: 2 });
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const page = await agent.get('/account');
    expect(page.text).toContain('我的帳號');
    expect(page.text).toContain('王小明');
    expect(page.text).toContain('王小華');
    expect(page.text).toContain('四年二班');
    expect(page.text).not.toContain('陳小美');
    expect(page.text).not.toContain('$2b$');

    const token = csrfFrom(page.text);
    const sw = await agent
      .post('/account/current-student')
      .type('form')
      .send({ _csrf: token, studentId: String(sibling), next: '/account' });
    expect(sw.status).toBe(303);
    expect(sw.headers.location).toBe('/account');
    expect((await agent.get('/')).text).toMatch(/<option value="\d+" selected>王小華/);
    for (const studentId of [String(stranger), '999999', 'abc', '']) {
      const res = await agent
        .post('/account/current-student')
        .type('form')
        .send({ _csrf: token, studentId, next: '/' });
      expect(res.status, studentId).toBe(404);
    }
    const evil = await agent
      .post('/account/current-student')
      .type('form')
      .send({ _csrf: token, studentId: String(w.student), next: '//evil.example' });
    expect(evil.headers.location).toBe('/');
  });
});

describe('家長密碼重設', () => {
  async function world() {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const s402 = await createStudent(knex, w.class402, { name: '張小強', studentNumber: '11302001', seat: 1 });
    const p402 = await createParent(knex, [s402], { name: '張家長' });
    return { ...w, s402, p402 };
  }

  it('lets a teacher reset a parent of their own class: a one-time password shown once, must-change, audited', async () => {
    const knex = testDb().knex;
    const w = await world();
    const parentSession = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const list = await teacher.get('/account/parent-passwords');
    expect(list.status).toBe(200);
    expect(list.text).toContain('王小明');
    expect(list.text).toContain('王大明');
    expect(list.text).not.toContain('張家長');
    expect(list.text).not.toContain('四年二班'); // (not '402': a random CSRF token may contain those digits)
    expect(list.text).not.toContain('11302001');
    const before = await hashOf(w.parent.accountId);

    // 重設密碼 opens a confirmation page (no JavaScript needed); opening it changes nothing.
    expect(list.text).toContain(`href="/account/parent-passwords/${w.parent.accountId}/reset"`);
    const confirmPage = await teacher.get(`/account/parent-passwords/${w.parent.accountId}/reset`);
    expect(confirmPage.status).toBe(200);
    expect(confirmPage.text).toContain('確定要重設');
    expect(confirmPage.text).toContain('確認重設');
    expect(await hashOf(w.parent.accountId)).toBe(before);

    const res = await teacher
      .post(`/account/parent-passwords/${w.parent.accountId}/reset`)
      .type('form')
      .send({ _csrf: csrfFrom(confirmPage.text), classId: String(w.class401), confirmed: 'yes' });
    expect(res.status).toBe(303);
    const shown = await teacher.get(locationOf(res));
    const otp = /class="one-time-password">([^<]+)</.exec(shown.text)?.[1];
    expect(otp).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(shown.text).toContain('只顯示這一次');
    const again = await teacher.get(locationOf(res));
    expect(again.text).not.toContain(otp!);

    const account = await knex('accounts')
      .where({ id: w.parent.accountId })
      .first('password_hash', 'must_change_password');
    expect(account.password_hash).not.toBe(before);
    expect(account.must_change_password).toBe(true);
    expect((await parentSession.get('/')).status).toBe(303); // the parent's session ended
    const entry = await knex('audit_log').where({ action: 'password.reset' }).first();
    expect(entry).toMatchObject({
      actor_account_id: w.teacher401,
      target_type: 'account',
      target_id: String(w.parent.accountId),
    });
    expect(JSON.stringify(entry)).not.toContain(otp!);

    // The parent signs in with it and must change it first.
    const parent = request.agent(app);
    expect((await login(parent, { schoolId: w.schoolId, login: '11301001' })).status).toBe(422);
    expect((await login(parent, { schoolId: w.schoolId, login: '11301001', password: otp! })).status).toBe(303);
    expect((await parent.get('/')).headers.location).toBe('/account/password');
  });

  it("answers 404 for another class's parent, a non-parent account, or a parent user, and changes nothing", async () => {
    const knex = testDb().knex;
    const w = await world();
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const token = await getCsrf(teacher, '/account/parent-passwords');
    const before = await hashOf(w.p402.accountId);
    for (const target of [w.p402.accountId, w.teacher402, w.admin, 999999]) {
      const res = await teacher
        .post(`/account/parent-passwords/${target}/reset`)
        .type('form')
        .send({ _csrf: token, confirmed: 'yes' });
      expect(res.status, String(target)).toBe(404);
    }
    expect((await teacher.get(`/account/parent-passwords?classId=${w.class402}`)).status).toBe(404);
    expect((await teacher.get(`/account/parent-passwords/${w.p402.accountId}/reset`)).status).toBe(404);
    expect((await teacher.post('/account/parent-passwords/abc/reset').type('form').send({ _csrf: token })).status).toBe(
      404,
    );
    expect(await hashOf(w.p402.accountId)).toBe(before);

    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await parent.get('/account/parent-passwords')).status).toBe(404);
    const ptoken = await getCsrf(parent, '/account');
    expect(
      (await parent.post(`/account/parent-passwords/${w.p402.accountId}/reset`).type('form').send({ _csrf: ptoken }))
        .status,
    ).toBe(404);
    expect(await hashOf(w.p402.accountId)).toBe(before);
    expect(await knex('audit_log').where({ action: 'password.reset' }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('lets a school admin reset any class of the school, but not another school', async () => {
    const knex = testDb().knex;
    const w = await world();
    const otherSchool = await createSchool(knex, { name: '市立仁愛國小' });
    const otherClass = await createClass(knex, otherSchool, { code: '401' });
    const far = await createParent(knex, [await createStudent(knex, otherClass, { studentNumber: '11309001' })]);
    await createStaff(knex, otherSchool, { role: 'school_admin', login: 'admin' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const list = await admin.get(`/account/parent-passwords?classId=${w.class402}`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('張家長');
    const ok = await admin
      .post(`/account/parent-passwords/${w.p402.accountId}/reset`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text), classId: String(w.class402), confirmed: 'yes' });
    expect(ok.status).toBe(303);
    expect((await admin.get(`/account/parent-passwords?classId=${otherClass}`)).status).toBe(404);
    const before = await hashOf(far.accountId);
    const token = await getCsrf(admin, '/account');
    expect(
      (await admin.post(`/account/parent-passwords/${far.accountId}/reset`).type('form').send({ _csrf: token })).status,
    ).toBe(404);
    expect(await hashOf(far.accountId)).toBe(before);
  });
});
