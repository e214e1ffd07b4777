/**
 * The school office keeps the school calendar (出勤管理 → 學校行事曆), clicked in Chromium with and without
 * JavaScript: it enters 寒假 as one range, sees it listed, and the break then leaves the grids — the class day
 * view shows 假日 (never 未刷卡) and the parent's 出勤管理 over the break lists only the school days around it.
 * Then the office removes the range again (刪除 → 確認刪除). The clock stands on the Friday after the break.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { startPortal, type Portal } from './support/portal.js';
import { PARENT_WANG, SCHOOL_ADMIN, mainText, menu, screenshot, signIn, signOut } from './support/ui.js';

/** Friday 2027-02-12, 10:00 Taipei. */
const AFTER_BREAK = '2027-02-12T02:00:00Z';

async function go(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

const attendanceNav = (page: Page) => page.getByRole('navigation', { name: '出勤管理' });

/** The grid's rows as `label|到校時間|離校時間`. */
async function gridRows(page: Page): Promise<string[]> {
  return page.locator('main table tbody tr').evaluateAll((trs) =>
    trs.map((tr) =>
      Array.from(tr.querySelectorAll('th, td'))
        .map((c) => (c.textContent ?? '').trim())
        .join('|'),
    ),
  );
}

describe.each([
  ['with JavaScript', true],
  ['without JavaScript', false],
])('the school calendar %s', (_label, javaScriptEnabled) => {
  let portal: Portal;

  beforeAll(async () => {
    portal = await startPortal();
    portal.clock.set(AFTER_BREAK);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('the school office enters 寒假 as a range; the grids then show no 未刷卡 over the break; the office removes it again', async () => {
    const office = await (await portal.context({ javaScriptEnabled })).newPage();
    await signIn(office, SCHOOL_ADMIN);
    await go(office, menu(office).getByRole('link', { name: '出勤管理' }));
    await go(office, attendanceNav(office).getByRole('link', { name: '學校行事曆' }));
    expect(await office.getByRole('heading', { level: 1 }).innerText()).toBe('學校行事曆');

    await office.getByLabel('名稱', { exact: true }).fill('寒假');
    await office.getByLabel('開始日期', { exact: true }).fill('2027-01-21');
    await office.getByLabel('結束日期', { exact: true }).fill('2027-02-10');
    await go(office, office.getByRole('button', { name: '新增假日' }));
    expect(new URL(office.url()).pathname).toBe('/attendance/calendar');
    expect(await mainText(office)).toContain('已新增假日「寒假」2027-01-21~2027-02-10');
    const listed = office.locator('main table.holidays tbody tr').filter({ hasText: '寒假' });
    expect((await listed.innerText()).replace(/\s+/g, ' ')).toContain('2027-01-21~2027-02-10 21');
    if (javaScriptEnabled) await screenshot(office, 'school-calendar');
    const school = await portal.knex('schools').where({ name: '市立忠孝國小' }).first('id');
    expect(
      await portal
        .knex('school_holiday_ranges')
        .where({ school_id: school.id, name: '寒假' })
        .count({ n: '*' })
        .first(),
    ).toEqual({ n: 1 });

    // The class day view on a day of the break: 假日, not 未刷卡.
    await go(office, attendanceNav(office).getByRole('link', { name: '班級出勤' }));
    const query = office.locator('main form[action="/attendance"]');
    await query.getByLabel('日期', { exact: true }).fill('2027-01-25');
    await go(office, query.getByRole('button', { name: '查詢' }));
    const day = await mainText(office);
    expect(day).toContain('本日是學校假日（寒假）');
    expect(await office.locator('main table.attendance-day td.no-swipe').count()).toBe(0);

    // The parent's 出勤管理 over the break: only the school days around it.
    const parent = await (await portal.context({ javaScriptEnabled })).newPage();
    await signIn(parent, PARENT_WANG);
    await go(parent, menu(parent).getByRole('link', { name: '出勤管理' }));
    // It opens on the last 7 days, like 首頁: 02-08 … 02-10 are the break.
    expect((await gridRows(parent)).map((r) => r.split('|')[0])).toEqual(['星期四 02-11', '星期五 02-12']);
    await parent.getByLabel('開始日期', { exact: true }).fill('2027-01-18');
    await parent.getByLabel('結束日期', { exact: true }).fill('2027-02-12');
    await go(parent, parent.getByRole('button', { name: '查詢' }));
    const rows = await gridRows(parent);
    expect(rows.map((r) => r.split('|')[0])).toEqual([
      '星期一 01-18',
      '星期二 01-19',
      '星期三 01-20',
      '星期四 02-11',
      '星期五 02-12',
    ]);
    expect(await mainText(parent)).toContain('統計時間:2027-01-18~2027-02-12');
    await signOut(parent);

    // The office removes the range (with a confirmation).
    await go(office, attendanceNav(office).getByRole('link', { name: '學校行事曆' }));
    await go(office, office.getByRole('link', { name: '刪除 寒假' }));
    expect(await mainText(office)).toContain('確定要刪除假日 寒假（2027-01-21~2027-02-10，共 21 天）嗎？');
    await go(office, office.getByRole('button', { name: '確認刪除' }));
    expect(await mainText(office)).toContain('已刪除假日「寒假」2027-01-21~2027-02-10');
    expect(await portal.knex('school_holiday_ranges').where({ name: '寒假' }).count({ n: '*' }).first()).toEqual({
      n: 0,
    });
    await signOut(office);
  });
});
