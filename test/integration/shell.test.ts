import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { login, signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';

const { app } = useTestApp();

describe('the shell of the site', () => {
  it('answers /healthz without the database and /readyz with it', async () => {
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.database).toBe('ok');
  });

  it('shows a zh-TW 404 page for an unknown path, with the security headers', async () => {
    const res = await request(app).get('/no-such-page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('找不到網頁');
    expect(res.text).toContain('lang="zh-Hant-TW"');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sends an anonymous visitor of a signed-in page to the login page', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2F');
  });

  it('signs a parent in and shows the child and school in the layout', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const home = await agent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('學生：王小明');
    expect(home.text).toContain('所屬單位：市立忠孝國小');
    expect(home.text).toContain('臺北市民當家熱線 1999(外縣市請撥 02-27208889)轉分機8585');
    expect(home.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong password with the generic message', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const res = await login(request.agent(app), { schoolId: w.schoolId, login: '11301001', password: 'wrong-pass' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('帳號或密碼錯誤');
  });
});
