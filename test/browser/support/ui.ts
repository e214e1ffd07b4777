/** What a person does on the portal, written once: sign in, open a menu item, read the notice. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { CAPTCHA_TEXT } from './portal.js';

export const PASSWORD = 'demo-1234';

export interface Who {
  role: '家長' | '教師' | '學校管理者';
  district?: string;
  level?: string;
  school?: string;
  account: string;
  password?: string;
}

export const PARENT_WANG: Who = { role: '家長', account: '11301001' };
export const PARENT_CHEN: Who = { role: '家長', account: '11301002' };
export const TEACHER_401: Who = { role: '教師', account: 't401' };
export const TEACHER_402: Who = { role: '教師', account: 't402' };
export const SCHOOL_ADMIN: Who = { role: '學校管理者', account: 'admin' };

/**
 * Choose the school the way a person does. With JavaScript the 學校 list follows 行政區 and 級別 in place (wait
 * for its answer before choosing); without, the list is refreshed with 更新學校清單.
 */
async function chooseSchool(page: Page, district: string, level: string, school: string): Promise<void> {
  const schoolSelect = page.getByLabel('學校', { exact: true });
  const reload = page.getByRole('button', { name: '更新學校清單' });
  const javaScript = !(await reload.isVisible());
  const chosen = (label: string) =>
    page
      .getByLabel(label, { exact: true })
      .evaluate((s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent?.trim());
  for (const [label, value] of [
    ['行政區', district],
    ['級別', level],
  ] as const) {
    if ((await chosen(label)) === value) continue;
    const answered = javaScript ? page.waitForResponse((r) => new URL(r.url()).pathname === '/api/schools') : undefined;
    await page.getByLabel(label, { exact: true }).selectOption({ label: value });
    await answered;
  }
  if (!javaScript && (await schoolSelect.locator('option', { hasText: school }).count()) === 0) {
    await Promise.all([page.waitForEvent('load'), reload.click()]);
  }
  await schoolSelect.locator('option', { hasText: school }).waitFor({ state: 'attached' });
  await schoolSelect.selectOption({ label: school });
}

/** Sign in through the 系統登入 form, field by field, with the fixed captcha. Ends on the page after login. */
export async function signIn(page: Page, who: Who): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('身分別', { exact: true }).selectOption({ label: who.role });
  await chooseSchool(page, who.district ?? '中正區', who.level ?? '國小', who.school ?? '市立忠孝國小');
  await page.getByLabel('帳號', { exact: true }).fill(who.account);
  await page.getByLabel('密碼', { exact: true }).fill(who.password ?? PASSWORD);
  await page.getByLabel('驗證碼', { exact: true }).fill(CAPTCHA_TEXT);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '登入', exact: true }).click()]);
  await page
    .waitForURL((u) => u.pathname !== '/login')
    .catch(async () => {
      throw new Error(`sign-in as ${who.role} ${who.account} stayed on the login page: ${await mainText(page)}`);
    });
}

export async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForURL('**/login'), page.getByRole('button', { name: '登出' }).click()]);
}

/** The main menu (主選單). */
export const menu = (page: Page) => page.getByRole('navigation', { name: '主選單' });

export async function openMenu(page: Page, item: string): Promise<void> {
  await Promise.all([page.waitForLoadState('load'), menu(page).getByRole('link', { name: item }).click()]);
}

/** Text of <main>, whitespace collapsed. */
export async function mainText(page: Page): Promise<string> {
  return ((await page.locator('main').innerText()) ?? '').replace(/\s+/g, ' ');
}

export const SCREENSHOTS = path.resolve('test-results/screenshots');

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}
