import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createAnnouncement } from '../support/content-factories.js';
import { createOutbox } from '../support/sms-factories.js';
import { createRequest } from '../support/subscriptions-factories.js';

const { app } = useTestApp();
const knex = () => testDb().knex;

const ROLES = [
  { role: 'parent' as const, login: '11301001' },
  { role: 'teacher' as const, login: 't401' },
  { role: 'school_admin' as const, login: 'admin' },
];

describe("首頁: announcements, pending reviews and today's SMS", () => {
  it('shows the 5 latest announcements of the user’s school and the bureau, never another school’s', async () => {
    const w = await createSchoolWorld(knex());
    const other = await createSchoolWorld(knex(), { schoolName: '市立景美國中', district: '文山區' });
    for (let i = 1; i <= 6; i++)
      await createAnnouncement(knex(), {
        schoolId: i % 2 ? w.schoolId : null,
        title: `近期公告${i}`,
        publishedAt: `2026-11-1${i}T01:00:00Z`,
      });
    await createAnnouncement(knex(), {
      schoolId: other.schoolId,
      title: '景美的公告',
      publishedAt: '2026-11-23T01:00:00Z',
    });
    for (const who of ROLES) {
      const agent = await signedIn(app, { ...who, schoolId: w.schoolId });
      const home = await agent.get('/');
      expect(home.status).toBe(200);
      expect(home.text).toContain('最新公告');
      for (let i = 2; i <= 6; i++) expect(home.text).toContain(`近期公告${i}`);
      expect(home.text).not.toContain('近期公告1<');
      expect(home.text).not.toContain('景美的公告');
      expect(home.text.indexOf('近期公告6')).toBeLessThan(home.text.indexOf('近期公告5'));
    }
  });

  it('shows staff the pending reviews of their scope and today’s SMS counts; parents see neither', async () => {
    const w = await createSchoolWorld(knex());
    const hua = await createStudent(knex(), w.class402, { name: '張小華', studentNumber: '11302001', seat: 1 });
    const period = await createPeriod(knex(), w.schoolId);
    const s1 = await createSubscription(knex(), w.student, period, { status: 'pending', effectiveOn: null });
    const s2 = await createSubscription(knex(), hua, period, { status: 'pending', effectiveOn: null });
    await createRequest(knex(), s1, { kind: 'order', requestedOn: '2026-11-23' });
    await createRequest(knex(), s2, { kind: 'order', requestedOn: '2026-11-23' });
    // Today in Taipei is 2026-11-24 (the clock is 09:00 +08:00).
    await createOutbox(knex(), {
      schoolId: w.schoolId,
      studentId: w.student,
      status: 'delivered',
      createdAt: '2026-11-23T23:40:00Z',
    });
    await createOutbox(knex(), {
      schoolId: w.schoolId,
      studentId: w.student,
      status: 'failed',
      createdAt: '2026-11-24T00:10:00Z',
    });
    await createOutbox(knex(), {
      schoolId: w.schoolId,
      studentId: hua,
      status: 'sent',
      createdAt: '2026-11-24T00:20:00Z',
    });
    await createOutbox(knex(), {
      schoolId: w.schoolId,
      studentId: w.student,
      status: 'delivered',
      createdAt: '2026-11-23T15:00:00Z',
    }); // yesterday 23:00

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const t = (await teacher.get('/')).text;
    expect(t).toContain('待審核的訂購與註銷申請：<strong>1</strong> 件');
    expect(t).toContain('href="/reviews"');
    expect(t).toContain('已發送 <strong>1</strong> 則、發送失敗 <strong>1</strong> 則');
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const a = (await admin.get('/')).text;
    expect(a).toContain('待審核的訂購與註銷申請：<strong>2</strong> 件');
    expect(a).toContain('已發送 <strong>2</strong> 則、發送失敗 <strong>1</strong> 則');
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await parent.get('/')).text).not.toContain('待審核的訂購與註銷申請');
  });
});

describe('menu items of 公告資訊服務 and 訊息發送服務', () => {
  it('公告資訊服務, 統計報表 and 訊息發送服務 render for every role, each in the menu and marked current', async () => {
    const w = await createSchoolWorld(knex());
    for (const who of ROLES) {
      const agent = await signedIn(app, { ...who, schoolId: w.schoolId });
      for (const [path, label] of [
        ['/announcements', '公告資訊服務'],
        ['/reports', '統計報表'],
        ['/messages', '訊息發送服務'],
      ] as const) {
        const res = await agent.get(path);
        expect(res.status, `${who.role} ${path}`).toBe(200);
        expect(res.text).toContain(`<a href="${path}" aria-current="page">${label}</a>`);
        expect(res.text).toContain(`<h1 id=`);
        expect(res.headers['cache-control']).toBe('no-store');
      }
    }
  });

  it('pages a role does not have answer 404', async () => {
    const w = await createSchoolWorld(knex());
    const forbidden: Record<string, string[]> = {
      parent: ['/announcements/new', '/announcements/manage', '/reports/sms.csv', '/messages/1'],
      teacher: ['/announcements/new', '/announcements/manage'],
      school_admin: [],
    };
    for (const who of ROLES) {
      const agent = await signedIn(app, { ...who, schoolId: w.schoolId });
      for (const path of forbidden[who.role] ?? [])
        expect((await agent.get(path)).status, `${who.role} ${path}`).toBe(404);
    }
    const anonymous = await (await import('supertest')).default(app).get('/reports');
    expect(anonymous.status).toBe(303);
  });
});
