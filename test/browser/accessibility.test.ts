/**
 * Accessibility (WCAG 2.1/2.2 AA) in Chromium: axe-core on every page of the menu for every role, labels on
 * every field, the captcha's text alternative and 重新產生, lang="zh-Hant-TW".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { blocking, describeViolations, runAxe } from './support/axe.js';
import { menuPages } from './support/crawl.js';
import { pendingOrder } from './support/data.js';
import { startPortal, type Portal } from './support/portal.js';
import { PARENT_CHEN, PARENT_WANG, SCHOOL_ADMIN, TEACHER_401, screenshot, signIn, type Who } from './support/ui.js';

let portal: Portal;
beforeAll(async () => {
  portal = await startPortal();
  // 陳小美's parent has a 新增申請 waiting, so the review pages show their rows, checkboxes and buttons.
  await pendingOrder(portal.knex, '11301002', portal.clock.today());
});
afterAll(async () => {
  await portal?.close();
});

/** Fields without a name a screen reader can read (label, aria-label, aria-labelledby). */
async function unlabelledFields(page: Page): Promise<string[]> {
  return page
    .locator('input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')
    .evaluateAll((els) =>
      els
        .filter((el) => {
          const f = el as HTMLInputElement;
          const byLabel = f.labels !== null && Array.from(f.labels).some((l) => (l.textContent ?? '').trim() !== '');
          return (
            !byLabel && !f.getAttribute('aria-label') && !f.getAttribute('aria-labelledby') && !f.getAttribute('title')
          );
        })
        .map((el) => el.outerHTML.slice(0, 160)),
    );
}

async function auditPage(page: Page, where: string): Promise<string[]> {
  const problems: string[] = [];
  const v = blocking(await runAxe(page));
  if (v.length > 0) problems.push(describeViolations(where, v));
  for (const f of await unlabelledFields(page)) problems.push(`${where}: field without a label: ${f}`);
  // A field's error message is tied to the field (aria-describedby), so a screen reader reads it with the field.
  const untied = await page
    .locator('.field-error[id]')
    .evaluateAll((els) =>
      els
        .filter((e) => !document.querySelector(`[aria-describedby~="${e.id}"]`))
        .map((e) => `${e.id}: ${e.textContent?.trim()}`),
    );
  for (const u of untied) problems.push(`${where}: error message not tied to its field: ${u}`);
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== 'zh-Hant-TW') problems.push(`${where}: lang="${lang}"`);
  const title = await page.title();
  if (!title.trim()) problems.push(`${where}: no <title>`);
  return problems;
}

describe('accessibility of the sign-in page', () => {
  it('has no serious axe findings, labels every field, and is zh-Hant-TW', async () => {
    const page = await (await portal.context()).newPage();
    await page.goto('/login');
    expect(await auditPage(page, '/login')).toEqual([]);
    await screenshot(page, 'login');
    // The same page with the errors shown (wrong captcha): errors are announced and tied to their fields.
    await page.getByLabel('帳號', { exact: true }).fill('11301001');
    await page.getByLabel('密碼', { exact: true }).fill('demo-1234');
    await page.getByLabel('驗證碼', { exact: true }).fill('WRONG');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '登入', exact: true }).click()]);
    expect(await page.getByText('驗證碼錯誤').isVisible()).toBe(true);
    expect(await auditPage(page, '/login (with errors)')).toEqual([]);
  });

  it('gives the captcha a text alternative and a way to get a new one (with and without JavaScript)', async () => {
    for (const javaScriptEnabled of [true, false]) {
      const page = await (await portal.context({ javaScriptEnabled })).newPage();
      await page.goto('/login');
      const img = page.locator('img#captcha-image');
      const alt = (await img.getAttribute('alt')) ?? '';
      expect(alt).toContain('驗證碼');
      const before = await img.getAttribute('src');
      const refresh = page.getByRole('link', { name: '重新產生' });
      expect(await refresh.isVisible()).toBe(true);
      await refresh.click();
      await page.waitForLoadState('load');
      await page.locator('img#captcha-image').waitFor();
      const after = await page.locator('img#captcha-image').getAttribute('src');
      expect(after, `JavaScript ${javaScriptEnabled ? 'on' : 'off'}`).not.toBe(before);
      // The image really is an image (the SVG loads) and the new one still answers the fixed text.
      const loaded = await page
        .locator('img#captcha-image')
        .evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0);
      expect(loaded).toBe(true);
    }
  });
});

const ROLES: [string, Who][] = [
  ['家長', PARENT_WANG],
  ['家長 (申請審核中)', PARENT_CHEN],
  ['教師', TEACHER_401],
  ['學校管理者', SCHOOL_ADMIN],
];

describe.each(ROLES)('accessibility of every page of the menu for %s', (_label, who) => {
  it('has no serious or critical axe findings, no contrast failures, a label on every field', async () => {
    const page = await (await portal.context()).newPage();
    await signIn(page, who);
    const pages = await menuPages(page, portal.baseUrl);
    expect(pages.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const path of pages) {
      await page.goto(path);
      problems.push(...(await auditPage(page, `${who.account} ${path}`)));
    }
    expect(problems.join('\n\n')).toBe('');
  });
});

describe('accessibility of forms showing their errors', () => {
  it('新增申請 without items, a wrong phone number, 退回 without a reason: errors are shown, tied to their fields, and axe finds nothing serious', async () => {
    const problems: string[] = [];
    // 李小華's parent (市立景美國中) has no subscription: 新增申請 without choosing an item.
    const parent = await (await portal.context()).newPage();
    await signIn(parent, {
      role: '家長',
      district: '文山區',
      level: '國中',
      school: '市立景美國中',
      account: '11201001',
    });
    await parent.goto('/sms/subscriptions/new');
    await parent.getByLabel('到校SMS', { exact: true }).uncheck();
    await parent.getByLabel('離校SMS', { exact: true }).uncheck();
    await Promise.all([parent.waitForEvent('load'), parent.getByRole('button', { name: '送出申請' }).click()]);
    expect(await parent.locator('.field-error, .flash-error').count()).toBeGreaterThan(0);
    problems.push(...(await auditPage(parent, '/sms/subscriptions/new (errors)')));

    await parent.goto('/sms/phones');
    const number = parent.getByLabel(/新增手機號碼/);
    await number.fill('12345');
    await Promise.all([parent.waitForEvent('load'), parent.getByRole('button', { name: '新增並傳送驗證碼' }).click()]);
    expect(await parent.locator('.field-error, .flash-error').count()).toBeGreaterThan(0);
    problems.push(...(await auditPage(parent, '/sms/phones (errors)')));

    const teacher = await (await portal.context()).newPage();
    await signIn(teacher, TEACHER_401);
    await teacher.goto('/reviews');
    await Promise.all([
      teacher.waitForEvent('load'),
      teacher.locator('main tbody tr').filter({ hasText: '陳小美' }).getByRole('link', { name: '退回' }).click(),
    ]);
    await Promise.all([teacher.waitForEvent('load'), teacher.getByRole('button', { name: '退回' }).click()]);
    expect(await teacher.getByLabel(/退回原因/).getAttribute('aria-invalid')).toBe('true');
    problems.push(...(await auditPage(teacher, '/reviews/:id/rejection (errors)')));
    expect(problems.join('\n\n')).toBe('');
  });
});
