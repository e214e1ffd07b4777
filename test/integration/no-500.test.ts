/**
 * No input gives a 500. Every GET and POST route of the pages, for every role, with junk in the path
 * parameters, the query string and the form body (with a valid CSRF token, so the handlers themselves run).
 */
import type { Agent } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, csrfFrom, signedIn } from '../support/app.js';
import { createPeriod, createSchoolWorld, createSubscription } from '../support/factories.js';

const { app } = buildTestApp();
afterAll(async () => {
  await app.shutdown();
  await closeTestDb();
});

type Layer = {
  name?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
};

/** The page routes (after the CSRF middleware) as [method, path] pairs. */
function pageRoutes(): Array<['get' | 'post', string]> {
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const csrfAt = stack.findIndex((l) => l.name === 'csrfProtection');
  const out: Array<['get' | 'post', string]> = [];
  const walk = (layers: Layer[]) => {
    for (const l of layers) {
      if (l.route) {
        if (l.route.methods.get) out.push(['get', l.route.path]);
        if (l.route.methods.post) out.push(['post', l.route.path]);
      } else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk(stack.slice(csrfAt + 1));
  return out;
}

const PARAMS = ['1', '0', '-1', 'abc', '99999999999999999999', '%00', '%EF%BC%91', '1e3'];
const QUERIES = [
  'page=-1&page=abc&status=__proto__&classId=1e9&studentId=%EF%BC%91&date=2026-13-45&from=%00&to=9999-99-99',
  'page[]=1&status[]=active&classId[a]=1&q=%00&name=' +
    'x'.repeat(3000) +
    '&kind=constructor&format=csv&month=2026-02-30',
  'page=99999999999999&districtId=0&level=college&schoolId=abc&seat=１&studentNumber=%27%3B--&periodId=-5&view=__proto__',
  // Dates a calendar accepts but PostgreSQL or a day-by-day loop does not (year 0, year 9999), one key at a
  // time (the strict query schemas refuse unknown keys before anything else).
  ...['0000-01-01', '9999-12-01'].flatMap((d) => [
    `from=${d}&to=${d.slice(0, 8)}31`,
    `date=${d}`,
    `classId=1&date=${d}`,
    `paidOn=${d}`,
  ]),
];
const BODIES: Array<Record<string, string | string[]>> = [
  {
    studentId: ['1', '2'],
    classId: '%00',
    date: 'yesterday',
    time: '25:61',
    reason: '\u0000',
    body: 'x'.repeat(10_000),
    title: '',
    number: '++886',
    code: 'abcdef',
    requestIds: 'abc',
    status: 'active',
    effective_on: '2026-01-01',
    school_id: '2',
  },
  // Otherwise valid forms (a period, a card, a refund) with dates of year 0 (the strict schemas refuse any
  // extra key, so each form has its own body).
  { name: '116學年度上學期', startsOn: '0000-01-01', endsOn: '0000-12-31', arrivalFee: '100', departureFee: '100' },
  { studentNumber: '11301001', cardUid: 'AA11', validFrom: '0000-01-01' },
  { paidOn: '0000-01-01' },
  {
    studentId: '99999999999',
    periodId: '1',
    arrival: 'maybe',
    departure: ['on', 'on'],
    name: '<script>',
    startsOn: '2026-02-30',
    endsOn: '1',
    arrivalFee: '-1',
    departureFee: '1e9',
    paidOn: '0000-00-00',
    next: '//evil.example',
    audience: 'everyone',
    ids: ['1', 'x'],
    reason: '',
    currentPassword: 'a'.repeat(100),
    newPassword: 'b'.repeat(100),
  },
];

/** Every route × every junk variant is hundreds of requests per role: more than the default 30 s on a busy machine. */
const ROUTE_SWEEP_TIMEOUT = 240_000;

let agents: Record<string, Agent> = {};

beforeAll(async () => {
  await resetDb();
  const knex = testDb().knex;
  const w = await createSchoolWorld(knex);
  const period = await createPeriod(knex, w.schoolId);
  await createSubscription(knex, w.student, period);
  agents = {
    parent: await signedIn(app, { schoolId: w.schoolId, login: '11301001' }),
    teacher: await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' }),
    admin: await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' }),
  };
});

describe('junk input never gives a 500', () => {
  it('lists a healthy number of page routes', () => {
    const routes = pageRoutes();
    expect(routes.filter(([m]) => m === 'get').length).toBeGreaterThan(25);
    expect(routes.filter(([m]) => m === 'post').length).toBeGreaterThan(15);
  });

  for (const role of ['parent', 'teacher', 'admin'] as const) {
    it(
      `every GET route, as ${role}, with junk path parameters and query strings`,
      async () => {
        const failures: string[] = [];
        for (const [method, path] of pageRoutes()) {
          if (method !== 'get') continue;
          const variants = path.includes(':') ? PARAMS.map((p) => path.replace(/:\w+/g, p)) : [path];
          for (const url of variants) {
            for (const q of QUERIES) {
              const res = await agents[role]!.get(`${url}?${q}`);
              if (res.status >= 500) failures.push(`${res.status} GET ${url}?${q.slice(0, 60)}`);
            }
          }
        }
        expect(failures).toEqual([]);
      },
      ROUTE_SWEEP_TIMEOUT,
    );

    it(
      `every POST route, as ${role}, with junk bodies and a valid CSRF token`,
      async () => {
        const agent = agents[role]!;
        const failures: string[] = [];
        for (const [method, path] of pageRoutes()) {
          if (method !== 'post' || path === '/logout' || path === '/login') continue;
          const variants = path.includes(':') ? PARAMS.slice(0, 4).map((p) => path.replace(/:\w+/g, p)) : [path];
          for (const url of variants) {
            for (const body of BODIES) {
              const token = csrfFrom((await agent.get('/account')).text);
              const res = await agent
                .post(url)
                .type('form')
                .send({ ...body, _csrf: token });
              // The one honest 5xx: this app does not listen, so the Taipei Card issuer cannot be reached.
              const idpDown =
                url === '/auth/taipei-card' && res.status === 503 && res.text.includes('臺北卡登入服務暫時無法使用');
              if (res.status >= 500 && !idpDown)
                failures.push(`${res.status} POST ${url} ${res.text.slice(0, 120).replace(/\s+/g, ' ')}`);
            }
          }
        }
        expect(failures).toEqual([]);
      },
      ROUTE_SWEEP_TIMEOUT,
    );
  }
});
