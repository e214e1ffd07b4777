/** Login throttling in PostgreSQL: the lock holds in a second app instance and refuses even the right password. */
import request from 'supertest';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, login } from '../support/app.js';
import { createSchoolWorld, PASSWORD } from '../support/factories.js';
import { IP_POINTS } from '../../src/middleware/throttle.js';
import { LOCK_AFTER_FAILURES as ACCOUNT_IP_POINTS } from '../../src/domain/accounts/lockout.js';
import { CAPTCHA, getCsrf } from '../support/app.js';

const first = buildTestApp();
const second = buildTestApp();
afterAll(async () => {
  await first.app.shutdown();
  await second.app.shutdown();
  await closeTestDb();
});
beforeEach(() => resetDb());

const LOCKED = /登入失敗次數過多，帳號已暫時鎖定，請於 (\d+) 分鐘後再試/;

describe('login throttling', () => {
  it(`locks the account after ${ACCOUNT_IP_POINTS} failures, also in a second app instance, even for the right password`, async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const c = { schoolId: w.schoolId, login: '11301001' };
    for (let i = 1; i < ACCOUNT_IP_POINTS; i++) {
      const res = await login(request.agent(first.app), { ...c, password: `wrong-${i}` });
      expect(res.status).toBe(422);
      expect(res.text).toContain('帳號或密碼錯誤');
    }
    const last = await login(request.agent(first.app), { ...c, password: 'wrong-last' });
    expect(last.status).toBe(429);
    expect(last.text).toMatch(LOCKED);
    expect(LOCKED.exec(last.text)![1]).toBe('15');

    // The right password during the lock: refused, here and in another process on the same database.
    for (const app of [first.app, second.app]) {
      const res = await login(request.agent(app), c);
      expect(res.status).toBe(429);
      expect(res.text).toMatch(LOCKED);
      expect(res.text).not.toContain('帳號或密碼錯誤');
    }
    const account = await knex('accounts')
      .where({ id: w.parent.accountId })
      .first('failed_logins', 'locked_until', 'last_login_at');
    expect(account.failed_logins).toBe(ACCOUNT_IP_POINTS);
    expect(account.locked_until).not.toBeNull();
    expect(account.last_login_at).toBeNull();
    const actions = (await knex('audit_log').orderBy('id').pluck('action')) as string[];
    expect(actions.filter((a) => a === 'login.failed')).toHaveLength(ACCOUNT_IP_POINTS);
    expect(actions.filter((a) => a === 'login.locked')).toHaveLength(1);
    expect(actions.filter((a) => a === 'login.locked_refused')).toHaveLength(2);
    const rows = await knex('audit_log').select('details');
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect(JSON.stringify(rows)).not.toContain('wrong-');

    // Another account is not affected.
    await knex('accounts').where({ id: w.teacher401 }).first();
    expect(
      (await login(request.agent(second.app), { role: 'teacher', schoolId: w.schoolId, login: 't401' })).status,
    ).toBe(303);

    // After the lock expires, a success lifts it (and the counter starts again from zero).
    await knex('rate_limits').update({ expire: Date.now() - 1000 });
    // (the row's locked_until still holds until the app's clock passes it)
    expect((await login(request.agent(second.app), c)).status).toBe(429);
    second.clock.advance(16 * 60_000);
    const ok = await login(request.agent(second.app), c);
    expect(ok.status).toBe(303);
    expect(
      await knex('rate_limits').where('key', 'like', 'login_fail_account_consecutive:%').count({ n: '*' }).first(),
    ).toEqual({ n: 0 });
    const after = await knex('accounts').where({ id: w.parent.accountId }).first('failed_logins', 'locked_until');
    expect(after).toEqual({ failed_logins: 0, locked_until: null });
    // The end of the lock by time is audited, once.
    const unlocked = await knex('audit_log').where({ action: 'login.unlocked' }).select('target_id', 'details');
    expect(unlocked).toHaveLength(1);
    expect(unlocked[0]).toMatchObject({ target_id: String(w.parent.accountId) });
    expect(JSON.stringify(unlocked[0].details)).toContain('expired');
  });

  it('a success resets the consecutive-failure count', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const c = { schoolId: w.schoolId, login: '11301001' };
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i < ACCOUNT_IP_POINTS; i++) {
        expect((await login(request.agent(first.app), { ...c, password: 'wrong-pass' })).status).toBe(422);
      }
      expect((await login(request.agent(first.app), c)).status).toBe(303);
    }
  });

  it('counts failures for accounts that do not exist the same way, and shows their lock with the same message', async () => {
    const w = await createSchoolWorld(testDb().knex);
    /** One sign-in from a fresh browser: its status and the form's message (the one alert of the login page). */
    const answer = async (account: string, password: string) => {
      const res = await login(request.agent(first.app), { schoolId: w.schoolId, login: account, password });
      return {
        status: res.status,
        message: /<div class="flash flash-error" role="alert">([^<]*)</.exec(res.text)?.[1],
      };
    };
    const answers: Record<string, { status: number; message: string | undefined }[]> = { real: [], unknown: [] };
    for (let i = 0; i < ACCOUNT_IP_POINTS; i++) {
      answers.real!.push(await answer('11301001', 'wrong-pass'));
      answers.unknown!.push(await answer('99999999', 'wrong-pass'));
    }
    // Then the right password of the real account, and another guess at the unknown one.
    answers.real!.push(await answer('11301001', PASSWORD));
    answers.unknown!.push(await answer('99999999', PASSWORD));
    expect(answers.unknown).toEqual(answers.real);
    expect(answers.real!.slice(0, ACCOUNT_IP_POINTS - 1).every((a) => a.message === '帳號或密碼錯誤')).toBe(true);
    expect(answers.real!.slice(ACCOUNT_IP_POINTS)).toEqual([
      { status: 429, message: '登入失敗次數過多，帳號已暫時鎖定，請於 15 分鐘後再試。' },
    ]);
  });

  // (some twenty sign-ins with bcrypt and the growing failure delay: slow on a busy machine)
  it(
    'locks the account whatever the address: 5 failures from one address, the right password from another is refused',
    { timeout: 120_000 },
    async () => {
      const knex = testDb().knex;
      const w = await createSchoolWorld(knex);
      const proxied = buildTestApp({ env: { TRUST_PROXY: '1' } });
      try {
        const from = async (ip: string, password: string) => {
          const agent = request.agent(proxied.app);
          const token = await getCsrf(agent, '/login');
          await agent.get('/login/captcha').set('X-Forwarded-For', ip).expect(200);
          return agent
            .post('/login')
            .set('X-Forwarded-For', ip)
            .type('form')
            .send({
              _csrf: token,
              intent: 'login',
              role: 'parent',
              schoolId: String(w.schoolId),
              account: '11301001',
              password,
              captcha: CAPTCHA,
            });
        };
        for (let i = 1; i <= ACCOUNT_IP_POINTS; i++) await from('203.0.113.7', `wrong-${i}`);
        const other = await from('198.51.100.9', PASSWORD);
        expect(other.status).toBe(429);
        expect(other.text).toMatch(LOCKED);
        expect(other.text).not.toContain('帳號或密碼錯誤');
        expect(await knex('accounts').where({ id: w.parent.accountId }).first('last_login_at')).toEqual({
          last_login_at: null,
        });
        // Failures spread over addresses count together too (the fifth from a fifth address locks).
        await knex('rate_limits').del();
        await knex('accounts').update({ locked_until: null, failed_logins: 0 });
        for (let i = 1; i < ACCOUNT_IP_POINTS; i++) expect((await from(`192.0.2.${i}`, 'wrong')).status).toBe(422);
        expect((await from('192.0.2.99', 'wrong')).status).toBe(429);
        expect((await from('192.0.2.100', PASSWORD)).status).toBe(429);
        // A password reset by the system administrator ends the lock, audited.
        const { resetPassword } = await import('../../src/domain/admin/commands.js');
        const reset = await resetPassword(knex, {
          schoolId: w.schoolId,
          role: 'parent',
          login: '11301001',
          now: proxied.clock.now(),
        });
        expect(
          await knex('rate_limits').where('key', 'like', 'login_fail_account_consecutive:%').count({ n: '*' }).first(),
        ).toEqual({ n: 0 });
        const unlocked = await knex('audit_log').where({ action: 'login.unlocked' }).select('details');
        expect(unlocked).toHaveLength(1);
        expect(JSON.stringify(unlocked[0].details)).toContain('password_reset');
        expect((await from('192.0.2.100', reset.password!)).status).toBe(303);
      } finally {
        await proxied.app.shutdown();
      }
    },
  );

  it('limits failures per IP across accounts', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    // Simulate an IP that already failed IP_POINTS times this hour (as if from many accounts).
    await knex('rate_limits').insert({
      key: 'login_fail_ip:127.0.0.1',
      points: IP_POINTS,
      expire: Date.now() + 3600_000,
    });
    const res = await login(request.agent(first.app), { schoolId: w.schoolId, login: '11301001' });
    expect(res.status).toBe(429);
    expect(res.text).toContain('此網路位址登入失敗次數過多');
  });
});
