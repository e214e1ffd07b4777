import request from 'supertest';
import type { Agent } from 'supertest';
import { createApp, type App } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps } from '../../src/deps.js';
import { afterAll, beforeEach } from 'vitest';
import { closeTestDb, resetDb, testDb } from './db.js';
import { PASSWORD } from './factories.js';

export const CAPTCHA = 'TEST1';
/** A Tuesday morning in Taipei (2026-11-24 09:00 +08:00). */
export const DEFAULT_NOW = '2026-11-24T01:00:00Z';

export interface TestApp {
  app: App;
  deps: AppDeps;
  clock: FixedClock;
  config: Config;
}

/** An app on the test database with a fixed clock and a fixed captcha. Close it with `app.shutdown()`. */
export function buildTestApp(o: { now?: string; env?: Record<string, string> } = {}): TestApp {
  const config = loadConfig({ NODE_ENV: 'test', CAPTCHA_FIXED_TEXT: CAPTCHA, SMS_DISPATCHER: 'false', ...o.env });
  const clock = new FixedClock(o.now ?? DEFAULT_NOW);
  const deps: AppDeps = { config, db: testDb(), clock, logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') };
  return { app: createApp(deps), deps, clock, config };
}

/**
 * buildTestApp() for a whole test file: every test starts on empty tables with the clock back at `now`, and
 * the app and the database pool close after the last test.
 */
export function useTestApp(o: { now?: string; env?: Record<string, string> } = {}): TestApp {
  const t = buildTestApp(o);
  afterAll(async () => {
    await t.app.shutdown();
    await closeTestDb();
  });
  beforeEach(async () => {
    await resetDb();
    t.clock.set(o.now ?? DEFAULT_NOW);
  });
  return t;
}

/** The CSRF token of the first form on a page. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token on the page');
  return m[1];
}

/** GET a page and return its CSRF token. */
export async function getCsrf(agent: Agent, path: string): Promise<string> {
  const res = await agent.get(path);
  return csrfFrom(res.text);
}

/** Sign in through the real login form (captcha from CAPTCHA_FIXED_TEXT). Returns the final response. */
export async function login(
  agent: Agent,
  c: { role?: 'parent' | 'teacher' | 'school_admin'; schoolId: number; login: string; password?: string },
) {
  const token = await getCsrf(agent, '/login');
  await agent.get('/login/captcha').expect(200);
  return agent
    .post('/login')
    .type('form')
    .send({
      _csrf: token,
      intent: 'login',
      role: c.role ?? 'parent',
      schoolId: String(c.schoolId),
      account: c.login,
      password: c.password ?? PASSWORD,
      captcha: CAPTCHA,
    });
}

/** An agent already signed in as this account; fails the test if sign-in does not redirect. */
export async function signedIn(
  app: App,
  c: { role?: 'parent' | 'teacher' | 'school_admin'; schoolId: number; login: string; password?: string },
): Promise<Agent> {
  const agent = request.agent(app);
  const res = await login(agent, c);
  if (res.status !== 303) throw new Error(`sign-in failed (${res.status}): ${res.text.slice(0, 500)}`);
  return agent;
}

/** POST a form with the CSRF token taken from `formPage` (the page the user would have submitted from). */
export async function postForm(
  agent: Agent,
  formPage: string,
  action: string,
  fields: Record<string, string | string[]>,
) {
  const token = await getCsrf(agent, formPage);
  return agent
    .post(action)
    .type('form')
    .send({ _csrf: token, ...fields });
}

/** Where a redirect points (fails the test, with the status, if the response is not one). */
export function locationOf(res: { status: number; headers: Record<string, string | undefined> }): string {
  const to = res.headers.location;
  if (to === undefined) throw new Error(`expected a redirect, got ${res.status}`);
  return to;
}
