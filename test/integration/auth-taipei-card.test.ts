/**
 * 臺北卡登入 against the development identity provider served by the app itself: the app listens on a real
 * port because openid-client fetches discovery and the token over HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Agent } from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { DEV_IDP_SUBJECT, devIssuer } from '../../src/domain/accounts/taipei-card.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, csrfFrom, locationOf, login, type TestApp } from '../support/app.js';
import { createParent, createSchoolWorld, createStudent, createTaipeiCardLink } from '../support/factories.js';

let server: Server;
let base: string;
let t: TestApp;
let app: App;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = buildTestApp({ env: { PUBLIC_URL: base } });
  app = t.app;
  server.on('request', app);
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await app.shutdown();
  await closeTestDb();
});
beforeEach(() => resetDb());

const pathOf = (location: string) => {
  const u = new URL(location, base);
  expect(u.origin).toBe(base);
  return u.pathname + u.search;
};

/** Start 臺北卡登入 from the login page; returns the provider's authorization URL. */
async function startCardSignIn(agent: Agent, from = '/login'): Promise<string> {
  const page = await agent.get(from);
  const res = await agent
    .post('/auth/taipei-card')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), next: '/' });
  expect(res.status).toBe(303);
  expect(res.headers.location).toContain('/dev-idp/auth?');
  const url = new URL(locationOf(res), base);
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  expect(url.searchParams.get('state')).toBeTruthy();
  expect(url.searchParams.get('nonce')).toBeTruthy();
  return pathOf(locationOf(res));
}

/** Follow the provider until it sends the browser back to the portal's callback; sign in at its page if asked. */
async function throughProvider(agent: Agent, authPath: string, creds = { login: '0912345678', password: 'demo-1234' }) {
  let path = authPath;
  for (let i = 0; i < 10; i++) {
    if (path.startsWith('/auth/taipei-card/callback')) return path;
    const res = await agent.get(path);
    if (res.status === 200 && res.text.includes('手機號碼/電子郵件')) {
      const action = /action="(\/dev-idp\/interaction\/[^"]+\/login)"/.exec(res.text)?.[1];
      expect(action).toBeTruthy();
      const posted = await agent.post(action!).type('form').send(creds);
      expect(posted.status).toBe(303);
      path = pathOf(locationOf(posted));
      continue;
    }
    expect([302, 303]).toContain(res.status);
    path = pathOf(locationOf(res));
  }
  throw new Error('the provider never returned to the portal');
}

describe('臺北卡登入 with the development identity provider', () => {
  it("an unlink takes effect at once in a card session: the other family's child disappears, and unlinking the signed-in account ends it", async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const other = await createStudent(knex, w.class402, { name: '陳小美', studentNumber: '11301002', seat: 2 });
    const pB = await createParent(knex, [other], { name: '陳媽媽' });
    const ident = await createTaipeiCardLink(knex, { issuer: devIssuer(t.config), subject: DEV_IDP_SUBJECT }, [
      w.parent.accountId,
      pB.accountId,
    ]);
    const card = request.agent(base);
    const signedIn = await card.get(await throughProvider(card, await startCardSignIn(card)));
    expect(signedIn.status).toBe(303);
    expect((await card.get('/sms/phones')).text).toContain('陳小美');

    // Parent B, with a password, unlinks the card from their account.
    const b = request.agent(base);
    expect((await login(b, { schoolId: w.schoolId, login: '11301002' })).status).toBe(303);
    const page = await b.get('/account');
    expect(
      (
        await b
          .post('/account/taipei-card/unlink')
          .type('form')
          .send({ _csrf: csrfFrom(page.text), identityId: String(ident) })
      ).status,
    ).toBe(303);
    const after = await card.get('/sms/phones');
    expect(after.status).toBe(200);
    expect(after.text).toContain('王小明');
    expect(after.text).not.toContain('陳小美');

    // Once the card is unlinked from the signed-in account too, the card session is over.
    await knex('taipei_card_links').where({ identity_id: ident }).delete();
    const gone = await card.get('/');
    expect(gone.status).toBe(303);
    expect(gone.headers.location).toContain('/login');
  });

  it('links a card seen for the first time through a student-number sign-in, then signs in directly', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const agent = request.agent(base);

    // First time: the provider's own zh-TW page, then back to the login page with a notice.
    const auth = await startCardSignIn(agent);
    const idpPage = await agent.get(auth).redirects(1);
    expect(idpPage.text).toContain('手機號碼/電子郵件');
    expect(idpPage.text).toContain('<label for="idp-password">密碼</label>');
    expect(idpPage.headers['content-security-policy']).toContain("script-src 'self'");
    expect(idpPage.text).not.toMatch(/<script>|<style>/);
    const callback = await throughProvider(agent, auth);
    const first = await agent.get(callback);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/login?role=parent');
    const identity = await knex('taipei_card_identities').first();
    expect(identity).toMatchObject({ issuer: devIssuer(t.config), subject: DEV_IDP_SUBJECT, display_name: '王大明' });
    expect(await knex('taipei_card_links').count({ n: '*' }).first()).toEqual({ n: 0 });
    const notice = await agent.get('/login');
    expect(notice.text).toContain('第一次登入本網站');

    // The student-number sign-in links the card and signs in.
    const signed = await login(agent, { schoolId: w.schoolId, login: '11301001' });
    expect(signed.status).toBe(303);
    expect(await knex('taipei_card_links').select('identity_id', 'account_id')).toEqual([
      { identity_id: identity.id, account_id: w.parent.accountId },
    ]);
    expect(await knex('audit_log').where({ action: 'taipei_card.linked' }).count({ n: '*' }).first()).toEqual({ n: 1 });
    const logoutPage = await agent.get('/');
    await agent
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(logoutPage.text) })
      .expect(303);

    // Later: a second card sign-in opens the linked children directly (a fresh browser, signing in at the provider again).
    const other = request.agent(base);
    const direct = await other.get(await throughProvider(other, await startCardSignIn(other)));
    expect(direct.status).toBe(303);
    expect(direct.headers.location).toBe('/');
    const home = await other.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('學生：王小明');
    const audit = await knex('audit_log').where({ action: 'login.succeeded' }).orderBy('id', 'desc').first();
    expect(audit.details).toMatchObject({ method: 'taipei_card', accountIds: [w.parent.accountId] });
  });

  it("opens every linked account's children, with the switcher", async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const sibling = await createStudent(knex, w.class402, { name: '王小華', studentNumber: '11301009', seat: 9 });
    const second = await createParent(knex, [sibling], { name: '王大明' });
    await createTaipeiCardLink(knex, { issuer: devIssuer(t.config), subject: DEV_IDP_SUBJECT }, [
      w.parent.accountId,
      second.accountId,
    ]);
    const agent = request.agent(base);
    const res = await agent.get(await throughProvider(agent, await startCardSignIn(agent)));
    expect(res.headers.location).toBe('/');
    const home = await agent.get('/');
    expect(home.text).toContain('王小明');
    expect(home.text).toContain('王小華');
    expect(home.text).toContain('name="studentId"');
  });

  it("refuses a replayed callback and another browser's state", async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    await createTaipeiCardLink(knex, { issuer: devIssuer(t.config), subject: DEV_IDP_SUBJECT }, [w.parent.accountId]);

    // Another browser (its own session, its own pending sign-in) presents this browser's callback: refused.
    const victim = request.agent(base);
    const callback = await throughProvider(victim, await startCardSignIn(victim));
    const attacker = request.agent(base);
    await startCardSignIn(attacker);
    const stolen = await attacker.get(callback);
    expect(stolen.status).toBe(400);
    expect(stolen.text).toContain('臺北卡登入未完成或已逾時');
    expect((await attacker.get('/')).status).toBe(303);
    // A browser with no pending sign-in at all: refused too.
    const bare = await request.agent(base).get(callback);
    expect(bare.status).toBe(400);

    // The browser that started it completes it once; the same callback again is refused (state removed at first use).
    const ok = await victim.get(callback);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/');
    const replay = await victim.get(callback);
    expect(replay.status).toBe(400);
    expect(await knex('audit_log').where({ action: 'login.failed' }).count({ n: '*' }).first()).toEqual({ n: 3 });
  });

  it('refuses a sign-in that took longer than 10 minutes, and one cancelled at the provider', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    await createTaipeiCardLink(knex, { issuer: devIssuer(t.config), subject: DEV_IDP_SUBJECT }, [w.parent.accountId]);
    const slow = request.agent(base);
    const callback = await throughProvider(slow, await startCardSignIn(slow));
    t.clock.advance(11 * 60_000);
    try {
      expect((await slow.get(callback)).status).toBe(400);
    } finally {
      t.clock.advance(-11 * 60_000);
    }
    const cancel = request.agent(base);
    const page = await cancel.get(await startCardSignIn(cancel)).redirects(1);
    const abort = /action="(\/dev-idp\/interaction\/[^"]+\/abort)"/.exec(page.text)![1]!;
    const aborted = await cancel.post(abort).type('form').send({});
    const back = await throughProvider(cancel, pathOf(locationOf(aborted)));
    const res = await cancel.get(back);
    expect(res.status).toBe(400);
    expect(res.text).toContain('臺北卡登入未完成或已逾時');
    expect((await cancel.get('/')).status).toBe(303);
  });

  it('refuses wrong credentials at the provider with its own message', async () => {
    await createSchoolWorld(testDb().knex);
    const agent = request.agent(base);
    const auth = await startCardSignIn(agent);
    const page = await agent.get(auth).redirects(1);
    const action = /action="(\/dev-idp\/interaction\/[^"]+\/login)"/.exec(page.text)![1]!;
    const res = await agent.post(action).type('form').send({ login: 'parent@example.com', password: 'wrong-pass' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('手機號碼/電子郵件或密碼錯誤');
    const ok = await agent.post(action).type('form').send({ login: 'PARENT@example.com', password: 'demo-1234' });
    expect(ok.status).toBe(303);
  });

  it('links a card from 我的帳號 for a signed-in parent, and unlinks it', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const agent = request.agent(base);
    expect((await login(agent, { schoolId: w.schoolId, login: '11301001' })).status).toBe(303);
    const res = await agent.get(await throughProvider(agent, await startCardSignIn(agent, '/account')));
    expect(res.headers.location).toBe('/account');
    const page = await agent.get('/account');
    expect(page.text).toContain('已連結臺北卡');
    expect(page.text).toContain('臺北卡（王大明）');
    const link = await knex('taipei_card_links').first();
    expect(link.account_id).toBe(w.parent.accountId);

    // Another family's card id: 404, nothing changes.
    const foreign = await agent
      .post('/account/taipei-card/unlink')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), identityId: String(link.identity_id + 100) });
    expect(foreign.status).toBe(404);
    const fresh = await agent.get('/account');
    const un = await agent
      .post('/account/taipei-card/unlink')
      .type('form')
      .send({ _csrf: csrfFrom(fresh.text), identityId: String(link.identity_id) });
    expect(un.status).toBe(303);
    expect(await knex('taipei_card_links').count({ n: '*' }).first()).toEqual({ n: 0 });
  });
});
