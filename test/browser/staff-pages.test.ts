/**
 * The school's staff pages in Chromium, without JavaScript (they are plain pages): the teacher's 首頁 puts a
 * request waiting longer than 2 school days first, in red, with its age; the school office reaches 教師與班級 from
 * 到離校簡訊服務's menu and reads its teachers and classes. Screenshots for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingOrder } from './support/data.js';
import { startPortal, type Portal } from './support/portal.js';
import { SCHOOL_ADMIN, TEACHER_401, mainText, menu, screenshot, signIn } from './support/ui.js';

let portal: Portal;
beforeAll(async () => {
  portal = await startPortal();
  // 陳小美's parent ordered on Wednesday 2026-11-18; today is Tuesday 2026-11-24: Thu, Fri, Mon, Tue = 4 school days.
  await pendingOrder(portal.knex, '11301002', '2026-11-18');
});
afterAll(async () => {
  await portal?.close();
});

describe('staff pages of a school running the service on its own', () => {
  it("the teacher's 首頁 shows the overdue request first, in red, with its age in school days", async () => {
    const page = await (await portal.context({ javaScriptEnabled: false })).newPage();
    await signIn(page, TEACHER_401);
    const section = page.locator('section.home-review-reminders');
    await section.waitFor();
    expect((await section.innerText()).replace(/\s+/g, ' ')).toContain('已等候超過 2 個上課日');
    const first = section.locator('tbody tr').first();
    expect((await first.innerText()).replace(/\s+/g, ' ')).toContain('陳小美');
    expect((await first.innerText()).replace(/\s+/g, ' ')).toMatch(/4 個上課日（逾期）/);
    const color = await first
      .locator('td')
      .last()
      .evaluate((td) => getComputedStyle(td).color);
    expect(color).toBe('rgb(164, 22, 26)'); // --err
    await screenshot(page, 'home-teacher-reminders');
  });

  it('the school office opens 教師與班級 from 到離校簡訊服務 and reads its teachers and their classes', async () => {
    const page = await (await portal.context({ javaScriptEnabled: false })).newPage();
    await signIn(page, SCHOOL_ADMIN);
    await Promise.all([
      page.waitForLoadState('load'),
      menu(page)
        .getByRole('link', { name: /到離校簡訊服務/ })
        .click(),
    ]);
    const sub = page.getByRole('navigation', { name: '到離校簡訊服務' });
    await Promise.all([page.waitForLoadState('load'), sub.getByRole('link', { name: '教師與班級' }).click()]);
    expect(new URL(page.url()).pathname).toBe('/sms/teachers');
    const text = await mainText(page);
    expect(text).toContain('t401 林老師 使用中 四年一班');
    expect(text).toContain('t402 張老師 使用中 四年二班');
    await screenshot(page, 'teachers');
  });
});
