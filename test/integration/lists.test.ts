/**
 * The list kit: every paged list answers a bad query the same way (400, its page with the message, no rows)
 * and shows the same pager (views/partials/pager.ejs) with the one page size.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { PAGE_SIZE } from '../../src/domain/paging.js';

const { app } = useTestApp();
const knex = testDb().knex;

const LISTS = {
  parent: ['/sms/subscriptions', '/sms/cancellations', '/messages', '/announcements'],
  school_admin: [
    '/sms/subscriptions',
    '/sms/cancellations',
    '/reviews',
    '/sms/log',
    '/messages',
    '/announcements',
    '/swipes/unmatched',
  ],
} as const;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('one list kit', () => {
  it.each(['parent', 'school_admin'] as const)(
    '%s: the same pager, and the same answer to a bad query',
    async (role) => {
      const w = await createSchoolWorld(knex);
      const agent = await signedIn(app, {
        role,
        schoolId: w.schoolId,
        login: role === 'parent' ? '11301001' : 'admin',
      });
      for (const path of LISTS[role]) {
        const ok = await agent.get(path);
        expect(ok.status, path).toBe(200);
        expect(textOf(ok.text), path).toContain(`頁數：1 顯示筆數：${PAGE_SIZE}`);
        for (const q of ['page=0', 'page=abc', 'page=1&page=2', 'unknown=1']) {
          const bad = await agent.get(`${path}?${q}`);
          expect(bad.status, `${path}?${q}`).toBe(400);
          expect(bad.text, `${path}?${q}`).toContain('查詢條件有誤');
          expect(textOf(bad.text), `${path}?${q}`).toContain('總筆數：0');
        }
      }
    },
  );

  it('繳費管理 (one class at a time, no pages) answers a bad query the same way', async () => {
    const w = await createSchoolWorld(knex);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    for (const q of ['classId=abc', 'classId=1&classId=2', 'unknown=1']) {
      const bad = await admin.get(`/sms/payments?${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.text, q).toContain('查詢條件有誤');
    }
  });

  it('到離校簡訊註冊服務 and 家長密碼重設 (one class at a time) answer a bad query the same way: 400, the message, no rows', async () => {
    const w = await createSchoolWorld(knex);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    for (const path of ['/sms/phones', '/account/parent-passwords']) {
      const good = await teacher.get(`${path}?classId=${w.class401}`);
      expect(good.status, path).toBe(200);
      expect(good.text, path).toContain('王小明');
      for (const q of ['classId=abc', 'classId=1&classId=2', 'unknown=1']) {
        const bad = await teacher.get(`${path}?${q}`);
        expect(bad.status, `${path}?${q}`).toBe(400);
        expect(bad.text, `${path}?${q}`).toContain('查詢條件有誤');
        expect(bad.text, `${path}?${q}`).not.toContain('王小明');
      }
    }
  });
});
