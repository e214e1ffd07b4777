/** Sign-in against a real portal process over real sockets: a captcha replayed in parallel, a lock from another address. */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createSchoolWorld, PASSWORD } from '../support/factories.js';
import { startPortal, type Portal } from './support.js';

const CAPTCHA = 'REPLAY';
let portal: Portal;
beforeAll(async () => {
  portal = await startPortal({ DATABASE_URL: inject('databaseUrl'), CAPTCHA_FIXED_TEXT: CAPTCHA, TRUST_PROXY: '1' });
});
afterAll(async () => {
  portal.child.kill('SIGTERM');
  await portal.exited;
  await closeTestDb();
});
beforeEach(() => resetDb());

/** A browser: one cookie jar, one address (X-Forwarded-For through the one trusted proxy hop). */
function browser(ip: string) {
  let cookie = '';
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${portal.base}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie, 'x-forwarded-for': ip, origin: portal.base },
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    if (set) cookie = set.split(';')[0]!;
    return { status: res.status, text: await res.text() };
  };
  return {
    /** Load the form and its captcha; returns the login form's fields. */
    async open() {
      const page = await call('/login');
      const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
      expect((await call('/login/captcha')).status).toBe(200);
      return token;
    },
    post(token: string, schoolId: number, password: string) {
      const body = new URLSearchParams({
        _csrf: token,
        intent: 'login',
        role: 'parent',
        schoolId: String(schoolId),
        account: '11301001',
        password,
        captcha: CAPTCHA,
      });
      return call('/login', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    },
  };
}

describe('sign-in under attack, through a real portal process', () => {
  it('one solved captcha signs in once: of 8 parallel POSTs with it, 1 succeeds and 7 get 驗證碼錯誤', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const b = browser('203.0.113.10');
    const token = await b.open();
    const answers = await Promise.all(Array.from({ length: 8 }, () => b.post(token, w.schoolId, PASSWORD)));
    expect(answers.filter((a) => a.status === 303)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 303);
    expect(refused.map((a) => a.status)).toEqual(Array(7).fill(422));
    expect(refused.every((a) => a.text.includes('驗證碼錯誤'))).toBe(true);
    const knex = testDb().knex;
    expect(await knex('audit_log').where({ action: 'login.succeeded' }).count({ n: '*' }).first()).toEqual({ n: 1 });
  });

  it('after 5 failures from one address, the right password from another address is refused with the same lock message', async () => {
    const w = await createSchoolWorld(testDb().knex);
    for (let i = 1; i <= 5; i++) {
      const attacker = browser('203.0.113.66');
      const res = await attacker.post(await attacker.open(), w.schoolId, `guess-${i}`);
      expect(res.status).toBe(i < 5 ? 422 : 429);
    }
    const owner = browser('198.51.100.20');
    const res = await owner.post(await owner.open(), w.schoolId, PASSWORD);
    expect(res.status).toBe(429);
    expect(res.text).toContain('登入失敗次數過多，帳號已暫時鎖定');
    const account = await testDb()
      .knex('accounts')
      .where({ id: w.parent.accountId })
      .first('last_login_at', 'locked_until');
    expect(account.last_login_at).toBeNull();
    expect(account.locked_until).not.toBeNull();
  });
});
