/** The 訊息發送服務 and 公告資訊服務 pages: junk in every query, param and form field → a clear 4xx or the page, never a 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, postForm, signedIn } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { createAnnouncement } from '../support/content-factories.js';

const { app } = buildTestApp();
const knex = () => testDb().knex;
let w: Awaited<ReturnType<typeof createSchoolWorld>>;
beforeAll(async () => {
  await resetDb();
  w = await createSchoolWorld(knex());
  await createAnnouncement(knex(), { schoolId: w.schoolId });
});
afterAll(async () => {
  await app.shutdown();
  await closeTestDb();
});

const JUNK = [
  '',
  '%00',
  'a%00b',
  '99999999999999999999',
  '-1',
  '0',
  '１２',
  '%E4%B8%AD',
  'x'.repeat(3000),
  '1e5',
  '1.5',
];

describe('junk input on the message and announcement pages', () => {
  it('GET queries and params', async () => {
    for (const role of ['parent', 'teacher', 'school_admin'] as const) {
      const login = role === 'parent' ? '11301001' : role === 'teacher' ? 't401' : 'admin';
      const agent = await signedIn(app, { role, schoolId: w.schoolId, login });
      for (const j of JUNK) {
        for (const url of [
          `/announcements?page=${j}`,
          `/announcements/${j || 'x'}`,
          `/announcements/${j || 'x'}/edit`,
          `/reports?from=${j}&to=${j}`,
          `/reports?month=${j}`,
          `/reports/sms.csv?from=${j}`,
          `/messages?page=${j}&classId=${j}`,
          `/messages/${j || 'x'}`,
        ]) {
          const res = await agent.get(url);
          expect(res.status, `${role} ${url.slice(0, 80)}`).toBeLessThan(500);
        }
      }
      for (const url of [
        '/announcements?page[]=1&page[]=2',
        '/reports?from[a]=1',
        '/messages?classId[]=1',
        '/reports?month=2026-11&month=2026-10',
        '/announcements?x=1',
      ]) {
        expect((await agent.get(url)).status, `${role} ${url}`).toBeLessThan(500);
      }
    }
  });

  it('POST forms', async () => {
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const forms: Record<string, string | string[]>[] = [
      { title: ['a', 'b'], body: 'x' },
      { title: 'a\u0000b', body: 'x' },
      { title: 'x'.repeat(5000), body: 'y' },
      { title: 't', body: 'y', pinned: 'yes' },
      {},
    ];
    for (const f of forms) {
      const res = await postForm(admin, '/announcements/new', '/announcements', f);
      expect(res.status).toBe(422);
    }
    const sends: Record<string, string | string[]>[] = [
      { audience: 'class', classId: String(w.class401), body: ['a', 'b'] },
      { audience: 'class', classId: 'abc', body: 'x' },
      { audience: 'everyone', body: 'x' },
      { audience: 'students', classId: String(w.class401), studentIds: ['1', 'x'], body: 'x' },
      { audience: 'students', classId: String(w.class401), studentIds: '99999999999', body: 'x' },
      { audience: 'class', classId: String(w.class401), body: 'a\u0000b' },
      { audience: 'class', classId: String(w.class401), body: '   ' },
      { audience: 'class', classId: String(w.class401), body: 'x', school_id: '2' },
    ];
    for (const f of sends) {
      const res = await postForm(admin, '/messages', '/messages', f);
      expect(res.status, JSON.stringify(f).slice(0, 80)).toBe(422);
    }
    expect(await knex()('messages').count({ n: '*' }).first()).toMatchObject({ n: 0 });
    expect(await knex()('announcements').count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });
});
