/** 系統登入 through HTTP: sessions, captcha, generic failures, redirects, timeouts, input, cookies, CSRF. */
import request from 'supertest';
import type { Agent, Response } from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { seedReference } from '../../src/db/seed.js';
import { hashPassword } from '../../src/domain/accounts/passwords.js';
import { CAPTCHA_TTL_MS } from '../../src/domain/accounts/captcha.js';
import { testDb } from '../support/db.js';
import {
  buildTestApp,
  CAPTCHA,
  csrfFrom,
  DEFAULT_NOW,
  getCsrf,
  locationOf,
  signedIn,
  useTestApp,
} from '../support/app.js';
import { createSchool, createSchoolWorld, PASSWORD } from '../support/factories.js';

const { app, clock } = useTestApp();

const sidOf = (res: Response): string | undefined => {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith('sid='))?.split(';')[0];
};

/** POST /login with the given fields after loading the form (and a captcha, unless `noCaptcha`). */
async function postLogin(agent: Agent, fields: Record<string, unknown>, o: { noCaptcha?: boolean } = {}) {
  const token = await getCsrf(agent, '/login');
  if (!o.noCaptcha) await agent.get('/login/captcha').expect(200);
  return agent
    .post('/login')
    .type('form')
    .send({ _csrf: token, intent: 'login', role: 'parent', captcha: CAPTCHA, ...fields });
}

const isAnonymous = async (agent: Agent) => {
  const res = await agent.get('/');
  return res.status === 303 && locationOf(res).startsWith('/login');
};

describe('sessions', () => {
  it('rotates the session id at sign-in; the old cookie stays anonymous', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = request.agent(app);
    const page = await agent.get('/login');
    const before = sidOf(page);
    expect(before).toBeDefined();
    await agent.get('/login/captcha');
    const res = await agent
      .post('/login')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        intent: 'login',
        role: 'parent',
        schoolId: String(w.schoolId),
        account: '11301001',
        password: PASSWORD,
        captcha: CAPTCHA,
      });
    expect(res.status).toBe(303);
    const after = sidOf(res);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await agent.get('/')).status).toBe(200);
    const old = await request(app).get('/').set('Cookie', before!);
    expect(old.status).toBe(303);
    expect(old.headers.location).toBe('/login?next=%2F');
    const audit = await testDb().knex('audit_log').where({ action: 'login.succeeded' }).first();
    expect(audit.actor_account_id).toBe(w.parent.accountId);
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it('logout is a POST that destroys the session; replaying its cookie is anonymous', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const home = await agent.get('/');
    const cookie = (home.request as unknown as { cookies: string }).cookies;
    expect((await agent.get('/logout')).status).toBe(404);
    const out = await agent
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login');
    expect(await isAnonymous(agent)).toBe(true);
    const replay = await request(app).get('/').set('Cookie', cookie);
    expect(replay.status).toBe(303);
    expect(
      await testDb()
        .knex('audit_log')
        .where({ action: 'logout', actor_account_id: w.parent.accountId })
        .count({ n: '*' })
        .first(),
    ).toEqual({ n: 1 });
  });

  it('ends a session idle for 30 minutes and one alive for 12 hours (the clock moved)', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const idle = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    clock.advance(29 * 60_000);
    expect((await idle.get('/')).status).toBe(200);
    clock.advance(31 * 60_000);
    expect(await isAnonymous(idle)).toBe(true);

    clock.set(DEFAULT_NOW);
    const busy = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    for (let i = 0; i < 24; i++) {
      clock.advance(29 * 60_000);
      expect((await busy.get('/')).status).toBe(200);
    }
    clock.advance(29 * 60_000); // 11 h 36 min + 29 min = 12 h 05 min: past 12 hours though never idle 30 minutes
    expect(await isAnonymous(busy)).toBe(true);
  });
});

describe('the captcha', () => {
  it('is spent by a failed try: reusing it is refused even with the right password', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = request.agent(app);
    const failed = await postLogin(agent, {
      schoolId: String(w.schoolId),
      account: '11301001',
      password: PASSWORD,
      captcha: 'WRONG',
    });
    expect(failed.status).toBe(422);
    expect(failed.text).toContain('驗證碼錯誤');
    const again = await agent
      .post('/login')
      .type('form')
      .send({
        _csrf: csrfFrom(failed.text),
        intent: 'login',
        role: 'parent',
        schoolId: String(w.schoolId),
        account: '11301001',
        password: PASSWORD,
        captcha: CAPTCHA,
      });
    expect(again.status).toBe(422);
    expect(again.text).toContain('驗證碼錯誤');
    expect(await isAnonymous(agent)).toBe(true);
  });

  it('is spent by a failed password too', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = request.agent(app);
    const failed = await postLogin(agent, {
      schoolId: String(w.schoolId),
      account: '11301001',
      password: 'wrong-pass',
    });
    expect(failed.text).toContain('帳號或密碼錯誤');
    const again = await agent
      .post('/login')
      .type('form')
      .send({
        _csrf: csrfFrom(failed.text),
        intent: 'login',
        role: 'parent',
        schoolId: String(w.schoolId),
        account: '11301001',
        password: PASSWORD,
        captcha: CAPTCHA,
      });
    expect(again.text).toContain('驗證碼錯誤');
  });

  it('is used once under concurrency: of 8 parallel attempts with one session and captcha, one gets it', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = request.agent(app);
    const token = await getCsrf(agent, '/login');
    await agent.get('/login/captcha').expect(200);
    const form = {
      _csrf: token,
      intent: 'login',
      role: 'parent',
      schoolId: String(w.schoolId),
      account: '11301001',
      password: PASSWORD,
      captcha: CAPTCHA,
    };
    const answers = await Promise.all(Array.from({ length: 8 }, () => agent.post('/login').type('form').send(form)));
    expect(answers.filter((r) => r.status === 303)).toHaveLength(1);
    const refused = answers.filter((r) => r.status !== 303);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.status).toBe(422);
      expect(r.text).toContain('驗證碼錯誤');
    }
    expect(
      await testDb().knex('audit_log').where({ action: 'login.succeeded' }).count({ n: '*' }).first(),
    ).toMatchObject({ n: 1 });
  });

  it('refuses a login with no captcha in the session', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const res = await postLogin(
      request.agent(app),
      { schoolId: String(w.schoolId), account: '11301001', password: PASSWORD },
      { noCaptcha: true },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('驗證碼錯誤');
  });

  it('refuses an expired captcha', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = request.agent(app);
    const token = await getCsrf(agent, '/login');
    await agent.get('/login/captcha');
    clock.advance(CAPTCHA_TTL_MS + 1000);
    const res = await agent
      .post('/login')
      .type('form')
      .send({
        _csrf: token,
        intent: 'login',
        role: 'parent',
        schoolId: String(w.schoolId),
        account: '11301001',
        password: PASSWORD,
        captcha: CAPTCHA,
      });
    expect(res.status).toBe(422);
    expect(res.text).toContain('驗證碼錯誤');
  });
});

describe('failures say nothing about which part was wrong', () => {
  it('answers wrong account, wrong password and wrong school with the same page', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const otherSchool = await createSchool(knex, { name: '市立仁愛國小' });
    const cases = [
      { schoolId: w.schoolId, account: '99999999', password: PASSWORD },
      { schoolId: w.schoolId, account: '11301001', password: 'wrong-pass' },
      { schoolId: otherSchool, account: '11301001', password: PASSWORD },
    ];
    const pages: string[] = [];
    for (const c of cases) {
      const res = await postLogin(request.agent(app), { ...c, schoolId: String(c.schoolId) });
      expect(res.status).toBe(422);
      expect(res.text).toContain('帳號或密碼錯誤');
      pages.push(
        res.text
          .replace(/name="_csrf" value="[^"]+"/g, '')
          .replace(/captcha\?v=\w+/g, '')
          .replace(/<option value="\d+" selected>[^<]*<\/option>/g, '')
          .replace(/schoolId=\d+/g, ''),
      );
    }
    expect(pages[1]).toBe(pages[0]!.replace('value="99999999"', 'value="11301001"'));
    expect(await knex('audit_log').where({ action: 'login.failed' }).count({ n: '*' }).first()).toEqual({ n: 3 });
  });

  it("refuses a parent's credentials with 身分別 教師 (role is a lookup key, not a privilege)", async () => {
    const w = await createSchoolWorld(testDb().knex);
    for (const role of ['teacher', 'school_admin']) {
      const res = await postLogin(request.agent(app), {
        role,
        schoolId: String(w.schoolId),
        account: '11301001',
        password: PASSWORD,
      });
      expect(res.status).toBe(422);
      expect(res.text).toContain('帳號或密碼錯誤');
    }
  });

  it('staff sign in with their staff account and see their name and school', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const home = await agent.get('/');
    expect(home.text).toContain('教師：林老師');
    expect(home.text).toContain('所屬單位：市立忠孝國小');
  });
});

describe('next', () => {
  it('only ever redirects inside the site', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const cases: [string, string][] = [
      ['//evil.example', '/'],
      ['https://evil.example', '/'],
      ['/\\evil.example', '/'],
      ['javascript:alert(1)', '/'],
      ['/account', '/account'],
    ];
    for (const [next, expected] of cases) {
      const res = await postLogin(request.agent(app), {
        schoolId: String(w.schoolId),
        account: '11301001',
        password: PASSWORD,
        next,
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(expected);
    }
    // Through the query string of the login page as well.
    const page = await request(app).get('/login?next=' + encodeURIComponent('//evil.example'));
    expect(page.text).toContain('name="next" value="/"');
  });
});

describe('bad input gives a clear message, never a 500', () => {
  it('handles a 10,000-character account, arrays, NUL bytes and unknown fields', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const school = String(w.schoolId);
    const cases: Record<string, unknown>[] = [
      { schoolId: school, account: '1'.repeat(10_000), password: PASSWORD },
      { schoolId: school, account: ['11301001', '11301002'], password: PASSWORD },
      { schoolId: school, account: '11301001', password: [PASSWORD, PASSWORD] },
      { schoolId: [school, school], account: '11301001', password: PASSWORD },
      { schoolId: school, account: '113\u000001001', password: PASSWORD },
      { schoolId: school, account: '11301001', password: 'demo\u0000-1234' },
      { schoolId: '99999999999', account: '11301001', password: PASSWORD },
      { schoolId: school, account: '11301001', password: PASSWORD, role: 'system' },
      { schoolId: school, account: '11301001', password: PASSWORD, isAdmin: 'true' },
      { schoolId: school, account: '', password: '' },
    ];
    for (const c of cases) {
      const res = await postLogin(request.agent(app), c);
      expect(res.status, JSON.stringify(c).slice(0, 80)).toBe(422);
      expect(res.text).toMatch(
        /帳號或密碼錯誤|格式有誤|最多 \d+ 個字|含有不允許的字元|請選擇|請輸入|表單含有不允許的欄位|密碼過長/,
      );
    }
    const arr = await postLogin(request.agent(app), { schoolId: school, account: ['a', 'b'], password: PASSWORD });
    expect(arr.text).toContain('格式有誤');
  });

  it('normalises full-width digits in 學號 by NFKC (one documented rule)', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const res = await postLogin(request.agent(app), {
      schoolId: String(w.schoolId),
      account: '１１３０１００１',
      password: PASSWORD,
    });
    expect(res.status).toBe(303);
    const spaced = await postLogin(request.agent(app), {
      schoolId: String(w.schoolId),
      account: '  11301001 ',
      password: PASSWORD,
    });
    expect(spaced.status).toBe(303);
  });

  it('applies the 72-byte rule: a longer password is never accepted by its first 72 bytes', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const exact = 'a'.repeat(71) + 'X';
    await knex('accounts')
      .where({ id: w.parent.accountId })
      .update({ password_hash: await hashPassword(exact) });
    expect(
      (await postLogin(request.agent(app), { schoolId: String(w.schoolId), account: '11301001', password: exact }))
        .status,
    ).toBe(303);
    for (const longer of [exact + 'Y', 'a'.repeat(71) + 'X' + 'a'.repeat(100)]) {
      const res = await postLogin(request.agent(app), {
        schoolId: String(w.schoolId),
        account: '11301001',
        password: longer,
      });
      expect(res.status).toBe(422);
      expect(res.text).toContain('帳號或密碼錯誤');
    }
  });

  it('keeps what was typed when the 學校 list is reloaded without JavaScript', async () => {
    const knex = testDb().knex;
    await createSchoolWorld(knex);
    const other = await createSchool(knex, { name: '市立景美國中', level: 'junior_high', district: '文山區' });
    const district = await knex('districts').where({ name: '文山區' }).first('id');
    const agent = request.agent(app);
    const token = await getCsrf(agent, '/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send({
        _csrf: token,
        intent: 'reload',
        role: 'parent',
        districtId: String(district.id),
        level: 'junior_high',
        schoolId: '',
        account: '11201001',
        password: 'secret-x',
        captcha: '',
      });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<option value="${other}">市立景美國中</option>`);
    expect(res.text).toContain('value="11201001"');
    expect(res.text).not.toContain('secret-x');
  });
});

describe('GET /api/schools', () => {
  it('lists the schools of each district and level', async () => {
    const knex = testDb().knex;
    await seedReference(knex, clock);
    const districts = await knex('districts').select('id', 'name');
    const levels = (await knex('school_levels').pluck('code')) as string[];
    expect(districts.length).toBe(12);
    let total = 0;
    for (const d of districts) {
      for (const level of levels) {
        const res = await request(app).get(`/api/schools?districtId=${d.id}&level=${level}`);
        expect(res.status).toBe(200);
        const expected = await knex('schools')
          .where({ district_id: d.id, level })
          .orderBy([{ column: 'name' }, { column: 'id' }])
          .select('id', 'name');
        expect(res.body.schools).toEqual(expected);
        total += res.body.schools.length;
      }
    }
    expect(total).toBe(Number((await knex('schools').count({ n: '*' }).first())!.n));
    expect(total).toBeGreaterThan(0);
    for (const bad of [
      'districtId=abc&level=elementary',
      'districtId=1&level=college',
      'districtId=1&districtId=2&level=elementary',
      '',
    ]) {
      const res = await request(app).get(`/api/schools?${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('請提供行政區與級別');
    }
  });
});

describe('CSRF', () => {
  /** Every POST route the pages router has (the machine APIs before the CSRF middleware use bearer tokens). */
  function postRoutes(): string[] {
    type Layer = {
      name?: string;
      route?: { path: string; methods: Record<string, boolean> };
      handle?: { stack?: Layer[] };
    };
    const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
    const csrfAt = stack.findIndex((l) => l.name === 'csrfProtection');
    expect(csrfAt).toBeGreaterThan(0);
    const out: string[] = [];
    const walk = (layers: Layer[]) => {
      for (const l of layers) {
        if (l.route?.methods.post) out.push(l.route.path);
        else if (l.handle?.stack) walk(l.handle.stack);
      }
    };
    walk(stack.slice(csrfAt + 1));
    return out.map((p) => p.replace(/:\w+/g, '1'));
  }

  it('refuses every POST without a token, with a foreign one, with an array, and cross-site', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const routes = postRoutes();
    for (const must of [
      '/login',
      '/logout',
      '/account/password',
      '/account/current-student',
      '/auth/taipei-card',
      '/account/parent-passwords/1/reset',
    ]) {
      expect(routes).toContain(must);
    }
    const agent = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const own = await getCsrf(agent, '/account');
    const foreign = await getCsrf(request.agent(app), '/login');
    for (const path of routes) {
      const none = await agent.post(path).type('form').send({ studentId: '1' });
      expect(none.status, `${path} without a token`).toBe(403);
      expect((await agent.post(path).type('form').send({ _csrf: foreign })).status, `${path} foreign token`).toBe(403);
      expect(
        (await agent.post(path).type('form').send(`_csrf=${own}&_csrf=${own}`)).status,
        `${path} array token`,
      ).toBe(403);
      const cross = await agent.post(path).set('Sec-Fetch-Site', 'cross-site').type('form').send({ _csrf: own });
      expect(cross.status, `${path} cross-site`).toBe(403);
    }
    // The same anonymous: the login form itself is protected.
    const anon = await request(app)
      .post('/login')
      .type('form')
      .send({ role: 'parent', account: '11301001', password: PASSWORD });
    expect(anon.status).toBe(403);
    expect(await isAnonymous(agent)).toBe(false);
  });
});

describe('cookies in production behind a proxy', () => {
  it('sets HttpOnly, SameSite=Lax and Secure when the proxy says https', async () => {
    const prod = buildTestApp({
      env: {
        NODE_ENV: 'production',
        CAPTCHA_FIXED_TEXT: '',
        DATABASE_URL: inject('databaseUrl'),
        SESSION_SECRET: 'x'.repeat(40),
        PUBLIC_URL: 'https://portal.example.gov.tw',
        OIDC_ISSUER: 'https://idp.example.gov.tw',
        OIDC_CLIENT_ID: 'portal',
        OIDC_CLIENT_SECRET: 'secret',
        TRUST_PROXY: '1',
      },
    });
    try {
      const res = await request(prod.app).get('/login').set('X-Forwarded-Proto', 'https');
      expect(res.status).toBe(200);
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sid='));
      expect(cookie).toBeDefined();
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      expect(cookie).toMatch(/; Path=\//);
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['cache-control']).toBe('no-store');
      // Over plain http (no proxy header) the secure cookie is never sent.
      const plain = await request(prod.app).get('/login');
      expect(([] as string[]).concat(plain.headers['set-cookie'] ?? []).some((c) => c.startsWith('sid='))).toBe(false);
      // No development identity provider in production.
      expect((await request(prod.app).get('/dev-idp/.well-known/openid-configuration')).status).toBe(404);
    } finally {
      await prod.app.shutdown();
    }
  });
});
