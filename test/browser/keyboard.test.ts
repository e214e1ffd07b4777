/**
 * Keyboard alone (Tab, arrow keys, typing, Enter) completes the guide's journey: sign in, 到離校簡訊服務 →
 * 到離校簡訊訂購服務, 查詢, 註銷, 確認, the notice, 到離校簡訊註銷服務, 取消. Focus is always visible.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { arrowToOption, tabTo } from './support/keyboard.js';
import { CAPTCHA_TEXT, startPortal, type Portal } from './support/portal.js';
import { PASSWORD, mainText } from './support/ui.js';

let portal: Portal;
beforeAll(async () => {
  portal = await startPortal();
});
afterAll(async () => {
  await portal?.close();
});

async function enter(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
}

/** The focused element shows a focus ring (outline or box-shadow). */
async function focusVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return false;
    const s = getComputedStyle(el);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  });
}

describe('keyboard only', () => {
  it("completes the guide's journey 1 with Tab, arrows, typing and Enter", async () => {
    const page = await (await portal.context()).newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto('/login');

    // 身分別 家長, 行政區 中正區 and 級別 國小 are the defaults; the school is chosen with the arrow keys.
    await tabTo(page, '身分別');
    await arrowToOption(page, '家長');
    await tabTo(page, '行政區');
    await arrowToOption(page, '中正區');
    await tabTo(page, '級別');
    await arrowToOption(page, '國小');
    await tabTo(page, '學校');
    await arrowToOption(page, '市立忠孝國小');
    await tabTo(page, '帳號');
    await page.keyboard.type('11301001');
    await tabTo(page, '密碼');
    await page.keyboard.type(PASSWORD);
    await tabTo(page, '驗證碼');
    expect(await focusVisible(page)).toBe(true);
    await page.keyboard.type(CAPTCHA_TEXT);
    await tabTo(page, '登入');
    await enter(page);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await mainText(page)).toContain('出勤統計');

    await tabTo(page, '到離校簡訊服務');
    expect(await focusVisible(page)).toBe(true);
    await enter(page);
    await tabTo(page, '到離校簡訊訂購服務');
    await enter(page);
    await tabTo(page, '查詢');
    await enter(page);
    await tabTo(page, '註銷');
    await enter(page);
    await tabTo(page, '確認');
    await enter(page);
    expect(await mainText(page)).toContain('註銷審核中!');

    await tabTo(page, '到離校簡訊註銷服務');
    await enter(page);
    const row = page.locator('main tbody tr').filter({ hasText: '王小明' });
    expect(await row.innerText()).toContain('審核中');
    await tabTo(page, '取消');
    await enter(page);
    expect(dialogs).toHaveLength(1);
    expect(await page.locator('main tbody tr').filter({ hasText: '王小明' }).innerText()).toContain('已取消');
  });

  it('the skip link is the first stop and moves focus to the main content', async () => {
    const page = await (await portal.context()).newPage();
    await page.goto('/login');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => (document.activeElement as HTMLElement).textContent?.trim());
    expect(first).toBe('跳到主要內容');
    expect(await page.locator('.skip-link').evaluate((e) => e.getBoundingClientRect().left >= 0)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });

  it("pressing Enter in the 驗證碼 field signs in (the form's default action is 登入)", async () => {
    const page = await (await portal.context()).newPage();
    await page.goto('/login');
    await page.getByLabel('學校', { exact: true }).selectOption({ label: '市立忠孝國小' });
    await page.getByLabel('帳號', { exact: true }).fill('11301002');
    await page.getByLabel('密碼', { exact: true }).fill(PASSWORD);
    await page.getByLabel('驗證碼', { exact: true }).fill(CAPTCHA_TEXT);
    await page.getByLabel('驗證碼', { exact: true }).focus();
    await enter(page);
    expect(new URL(page.url()).pathname).toBe('/');
  });
});
