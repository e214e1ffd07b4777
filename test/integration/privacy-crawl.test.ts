/**
 * Privacy and scoping over the whole site: sign in as one family, a teacher of another class and an admin of another
 * school, visit every page route with every id that exists, and check what the HTML carries: never another
 * family's child, number or name, never a password hash, a whole phone number only for its own family, and a
 * name with markup always as text.
 */
import type { Agent } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, signedIn } from '../support/app.js';
import {
  createClass,
  createParent,
  createPeriod,
  createSchool,
  createSchoolWorld,
  createStaff,
  createStudent,
  createSubscription,
} from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';

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
function getRoutes(): string[] {
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const out: string[] = [];
  const walk = (layers: Layer[]) => {
    for (const l of layers) {
      if (l.route?.methods.get) out.push(l.route.path);
      else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk(stack.slice(stack.findIndex((l) => l.name === 'csrfProtection') + 1));
  return out;
}

const XSS_NAME = '王<img src=x onerror=alert(1)>明';
const SECRET_CHILD = '祕密小孩';
const SECRET_NUMBER = '11309999';
const SECRET_PHONE = '0987654321';
let ids: number[] = [];
let w: Awaited<ReturnType<typeof createSchoolWorld>>;
let otherSchool: number;

async function crawl(agent: Agent): Promise<string> {
  const pages: string[] = [];
  for (const path of getRoutes()) {
    if (path === '/logout') continue;
    const urls = path.includes(':') ? ids.map((id) => path.replace(/:\w+/g, String(id))) : [path];
    for (const url of urls) {
      const res = await agent.get(url);
      if (res.status === 200 && /html|csv|svg/.test(String(res.headers['content-type']))) pages.push(res.text);
    }
  }
  return pages.join('\n');
}

beforeAll(async () => {
  await resetDb();
  const knex = testDb().knex;
  w = await createSchoolWorld(knex);
  const period = await createPeriod(knex, w.schoolId, { name: '115學年度上學期' });
  await createSubscription(knex, w.student, period);
  // Another family in class 402 of the same school, with markup in the child's name and a verified phone.
  const secret = await createStudent(knex, w.class402, { name: SECRET_CHILD, studentNumber: SECRET_NUMBER, seat: 7 });
  const xss = await createStudent(knex, w.class402, { name: XSS_NAME, studentNumber: '11308888', seat: 8 });
  await createParent(knex, [secret, xss], { name: '祕密家長' });
  await createSubscription(knex, secret, period);
  await createSubscription(knex, xss, period);
  await createPhone(knex, secret, { number: SECRET_PHONE });
  await createPhone(knex, w.student, { number: '0912345678' });
  // Another school with its own admin.
  otherSchool = await createSchool(knex, { name: '市立他校國小' });
  const otherClass = await createClass(knex, otherSchool, { code: '101', name: '一年一班' });
  await createStaff(knex, otherSchool, { role: 'school_admin', login: 'admin2', name: '他校教務處' });
  await createStudent(knex, otherClass, { name: '他校學生', studentNumber: '10100001', seat: 1 });
  const maxId = Math.max(...(await knex('students').pluck('id')), ...(await knex('subscriptions').pluck('id')));
  ids = Array.from({ length: maxId + 2 }, (_, i) => i + 1);
});

describe('what every page may show', () => {
  it('a parent never sees another family, whole numbers only of their own, no hashes', async () => {
    const html = await crawl(await signedIn(app, { schoolId: w.schoolId, login: '11301001' }));
    expect(html).toContain('王小明');
    for (const marker of [SECRET_CHILD, SECRET_NUMBER, SECRET_PHONE, '0987-654-321', '祕密家長', '他校學生', '$2b$']) {
      expect(html, marker).not.toContain(marker);
    }
  });

  it('the teacher of 401 never sees class 402; staff see numbers masked only', async () => {
    const html = await crawl(await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' }));
    expect(html).toContain('王小明');
    for (const marker of [
      SECRET_CHILD,
      SECRET_NUMBER,
      SECRET_PHONE,
      '0912345678',
      '0912-345-678',
      '$2b$',
      '<img src=x',
    ]) {
      expect(html, marker).not.toContain(marker);
    }
  });

  it('the school admin sees the whole school with names as text and numbers masked; another school stays invisible', async () => {
    const html = await crawl(await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' }));
    expect(html).toContain(SECRET_CHILD);
    expect(html).toContain('王&lt;img src=x onerror=alert(1)&gt;明');
    expect(html).not.toContain('<img src=x');
    for (const marker of [SECRET_PHONE, '0987-654-321', '他校學生', '$2b$']) expect(html, marker).not.toContain(marker);
  });

  it('the admin of another school sees nothing of this one', async () => {
    const html = await crawl(await signedIn(app, { role: 'school_admin', schoolId: otherSchool, login: 'admin2' }));
    expect(html).toContain('他校學生');
    for (const marker of ['王小明', SECRET_CHILD, XSS_NAME, '11301001', SECRET_PHONE])
      expect(html, marker).not.toContain(marker);
  });
});
