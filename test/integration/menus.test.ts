/**
 * The menu table (src/routes/menu.ts) drives both the menus and the routes' role checks: walked for each role,
 * every link its menus show opens (200), every entry it is not allowed answers 404, and each menu renders
 * exactly the role's entries, in the table's order.
 */
import { describe, expect, it } from 'vitest';
import request, { type Agent } from 'supertest';
import { testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { MENU, type MenuEntry, type MenuName } from '../../src/routes/menu.js';
import type { Role } from '../../src/domain/vocabulary.js';

const { app } = useTestApp();
const knex = testDb().knex;

const LOGINS: Record<Role, string> = { parent: '11301001', teacher: 't401', school_admin: 'admin' };

/** Where each menu is rendered, and how to find it on the page. */
const MENUS: Record<MenuName, { page: string; nav: RegExp }> = {
  main: { page: '/', nav: /<nav class="menu" aria-label="主選單">([\s\S]*?)<\/nav>/ },
  sms: { page: '/sms', nav: /<nav class="sub-nav" aria-label="到離校簡訊服務">([\s\S]*?)<\/nav>/ },
  attendance: { page: '/attendance', nav: /<nav class="sub-nav" aria-label="出勤管理">([\s\S]*?)<\/nav>/ },
};

/** The links of a menu as [href, label], or undefined when the page has no such menu. */
function linksOf(html: string, menu: MenuName): [string, string][] | undefined {
  const nav = MENUS[menu].nav.exec(html)?.[1];
  if (nav === undefined) return undefined;
  return [...nav.matchAll(/<a href="([^"]+)"[^>]*>([^<]+)/g)].map((m) => [m[1]!, m[2]!.trim()]);
}

const entries = Object.values(MENU) as MenuEntry[];
const expected = (role: Role, menu: MenuName): [string, string][] =>
  entries.filter((e) => e.menus.includes(menu) && e.roles.includes(role)).map((e) => [e.href, e.label]);

async function signIn(role: Role): Promise<Agent> {
  const w = await createSchoolWorld(knex);
  return signedIn(app, { role, schoolId: w.schoolId, login: LOGINS[role] });
}

describe('one menu table drives the menus and the role checks', () => {
  it.each(['parent', 'teacher', 'school_admin'] as const)(
    '%s: the menus show its entries, each opens',
    async (role) => {
      const agent = await signIn(role);
      for (const menu of Object.keys(MENUS) as MenuName[]) {
        const page = await agent.get(MENUS[menu].page);
        expect(page.status, MENUS[menu].page).toBe(200);
        const links = linksOf(page.text, menu);
        // A parent's 出勤管理 is their child's calendar, without the staff's sub-menu.
        if (role === 'parent' && menu === 'attendance') {
          expect(links).toBeUndefined();
          continue;
        }
        expect(links, `${role} ${menu}`).toEqual(expected(role, menu));
        for (const [href] of links!) expect((await agent.get(href)).status, `${role} ${href}`).toBe(200);
      }
    },
  );

  it.each(['parent', 'teacher', 'school_admin'] as const)(
    '%s: every entry it may not see answers 404',
    async (role) => {
      const agent = await signIn(role);
      const refused = entries.filter((e) => !e.roles.includes(role));
      if (role === 'school_admin') expect(refused).toEqual([]);
      else expect(refused.length).toBeGreaterThan(0);
      for (const e of refused) expect((await agent.get(e.href)).status, `${role} ${e.href}`).toBe(404);
    },
  );

  it('keeps the menus as they are: labels and order per role', () => {
    const labels = (role: Role, menu: MenuName) => expected(role, menu).map(([, l]) => l);
    const main = ['首頁', '我的帳號', '出勤管理', '公告資訊服務', '統計報表', '到離校簡訊服務', '訊息發送服務'];
    for (const role of ['parent', 'teacher', 'school_admin'] as const) expect(labels(role, 'main')).toEqual(main);
    const mine = ['到離校簡訊訂購服務', '到離校簡訊註銷服務', '到離校簡訊註冊服務'];
    const staff = [...mine, '審核', '簡訊服務期間', '簡訊發送紀錄'];
    expect(labels('parent', 'sms')).toEqual(mine);
    expect(labels('teacher', 'sms')).toEqual(staff);
    expect(labels('school_admin', 'sms')).toEqual([...staff, '繳費管理', '未對應刷卡', '卡片管理', '教師與班級']);
    expect(labels('teacher', 'attendance')).toEqual(['班級出勤']);
    expect(labels('school_admin', 'attendance')).toEqual(['班級出勤', '學校行事曆', '未對應刷卡', '卡片管理']);
  });

  it('an anonymous visitor is sent to sign in from a signed-in area, and an unknown path is still 404', async () => {
    for (const path of ['/sms/payments', '/reviews', '/attendance/calendar', '/account', '/messages']) {
      const res = await request(app).get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    expect((await request(app).get('/no-such-page')).status).toBe(404);
  });
});
