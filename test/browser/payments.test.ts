/**
 * 繳費 and the printable pages, clicked in Chromium on the demo data: 陳小美's order is approved today (effective
 * tomorrow, charged for its remaining school days); the school office opens 繳費管理, prints the class's
 * 繳費通知單, records the payment (收據號碼 000002: 王小明's demo payment is 000001), opens the 收據 and the
 * 退費清單. Each printable page is checked on screen and in print media (no toolbar, A4), with screenshots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { loadCurrentUser } from '../../src/domain/accounts/current-user.js';
import { SubscriptionService } from '../../src/domain/subscriptions/subscription-service.js';
import { startPortal, type Portal } from './support/portal.js';
import { blocking, describeViolations, runAxe } from './support/axe.js';
import { SCHOOL_ADMIN, mainText, menu, screenshot, signIn, signOut } from './support/ui.js';

async function go(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

const smsNav = (page: Page) => page.getByRole('navigation', { name: '到離校簡訊服務' });
const textOf = async (page: Page) => ((await page.locator('body').innerText()) ?? '').replace(/\s+/g, ' ');

describe('繳費 and the printable pages', () => {
  let portal: Portal;

  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('the office prints the 繳費通知單, records a payment, prints its 收據 and the 退費清單', async () => {
    // 陳小美's parent orders and 林老師 approves today, through the domain (the pages are tested in journeys).
    const knex = portal.knex;
    const chen = await knex('students').where({ student_number: '11301002' }).first('id', 'school_id');
    const period = await knex('service_periods').where({ school_id: chen.school_id }).first('id');
    const parentAccount = await knex('accounts').where({ role: 'parent', login: '11301002' }).first('id');
    const teacherAccount = await knex('accounts')
      .where({ role: 'teacher', login: 't401', school_id: chen.school_id })
      .first('id');
    const service = new SubscriptionService(knex, portal.clock);
    const { requestId } = await service.order((await loadCurrentUser(knex, { accountId: parentAccount.id }))!, {
      studentId: chen.id,
      periodId: period.id,
      arrival: true,
      departure: true,
    });
    await service.approve((await loadCurrentUser(knex, { accountId: teacherAccount.id }))!, requestId);
    const charged = await knex('subscriptions')
      .where({ student_id: chen.id })
      .first('charge_amount', 'charge_days', 'charge_period_days');
    // Approved on Tue 2026-11-24 → effective Wed 11-25; the period 2026-08-31 … 2027-01-20 has 103 school days
    // (no holiday in the demo), 41 of them from 11-25: floor(300 × 41 ÷ 103) = 119.
    expect(charged).toEqual({ charge_amount: 119, charge_days: 41, charge_period_days: 103 });

    const office = await (await portal.context()).newPage();
    await signIn(office, SCHOOL_ADMIN);
    await go(office, menu(office).getByRole('link', { name: '到離校簡訊服務' }));
    await go(office, smsNav(office).getByRole('link', { name: '繳費管理' }));
    expect(await office.getByRole('heading', { level: 1 }).innerText()).toBe('繳費管理');
    const rowOf = (name: string) => office.locator('main tbody tr').filter({ hasText: name });
    expect(await rowOf('王小明').innerText()).toContain('已繳費');
    expect(await rowOf('王小明').innerText()).toContain('收據號碼 000001');
    expect((await rowOf('陳小美').innerText()).replace(/\s+/g, ' ')).toContain(
      'NT$300 × 41 ÷ 103 個上學日 = NT$119 未繳費',
    );
    expect(describeViolations('/sms/payments', blocking(await runAxe(office)))).toBe('');

    // 繳費通知單: one sheet for 陳小美 (王小明 has paid), no menu; in print media the toolbar goes too.
    await go(office, office.getByRole('link', { name: '列印繳費通知單' }));
    expect(await office.getByRole('navigation', { name: '主選單' }).count()).toBe(0);
    expect(await office.locator('article.sheet').count()).toBe(1);
    const notice = await textOf(office);
    expect(notice).toContain('到離校簡訊服務 繳費通知單');
    expect(notice).toContain('陳小美');
    expect(notice).toContain('NT$300 × 41 ÷ 103 個上學日 = NT$119');
    expect(notice).toContain('新臺幣壹佰壹拾玖元整');
    expect(notice).toContain('請將應繳金額交至學校辦公室');
    expect(await office.getByRole('button', { name: '列印' }).isVisible()).toBe(true);
    expect(describeViolations('/sms/payments/notices', blocking(await runAxe(office)))).toBe('');
    await screenshot(office, 'payment-notice');
    await office.emulateMedia({ media: 'print' });
    expect(await office.locator('.print-toolbar').isVisible()).toBe(false);
    await office.emulateMedia({ media: 'screen' });
    await go(office, office.getByRole('link', { name: '返回' }));

    // 登錄繳費 for 陳小美's row.
    await go(office, rowOf('陳小美').getByRole('button', { name: '登錄繳費' }));
    const today = portal.clock.today();
    expect(await mainText(office)).toContain(`已登錄繳費 1 筆（繳費日期 ${today}，收據號碼 000002）`);
    expect(await knex('payments').where({ receipt_number: 2 }).first('amount', 'paid_on')).toEqual({
      amount: 119,
      paid_on: today,
    });

    // Its 收據.
    await go(office, rowOf('陳小美').getByRole('link', { name: '收據號碼 000002' }));
    const receipt = await textOf(office);
    for (const part of [
      '收據',
      '收據號碼：000002',
      `繳費日期：${today}`,
      '陳小美',
      '四年一班',
      '到校SMS 離校SMS',
      'NT$119',
      '新臺幣壹佰壹拾玖元整',
      '市立忠孝國小',
    ])
      expect(receipt).toContain(part);
    expect(describeViolations('/sms/payments/:id/receipt', blocking(await runAxe(office)))).toBe('');
    await screenshot(office, 'receipt');
    await office.emulateMedia({ media: 'print' });
    expect(await office.locator('.print-toolbar').isVisible()).toBe(false);
    const pdf = await office.pdf({ preferCSSPageSize: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await office.emulateMedia({ media: 'screen' });
    await go(office, office.getByRole('link', { name: '返回' }));

    // 退費清單: 王小明's parent cancels, 林老師 approves (effective 11-25: 41 of 103 school days of the NT$300 paid).
    const ming = await knex('subscriptions as s')
      .join('students as st', 'st.id', 's.student_id')
      .where('st.student_number', '11301001')
      .first('s.id');
    const mingParent = await knex('accounts').where({ role: 'parent', login: '11301001' }).first('id');
    const cancellation = await service.cancel((await loadCurrentUser(knex, { accountId: mingParent.id }))!, ming.id);
    await service.approve((await loadCurrentUser(knex, { accountId: teacherAccount.id }))!, cancellation.requestId);
    await office.goto('/sms/payments');
    await go(office, office.getByRole('link', { name: '列印退費清單' }));
    const refunds = await textOf(office);
    expect(refunds).toContain('到離校簡訊服務 退費清單');
    expect(refunds).toContain('共 1 筆，退費合計 NT$119');
    expect(refunds).toContain('王小明');
    expect(refunds).toContain('41 ÷ 103');
    expect(refunds).toContain('收據號碼 000001');
    expect(refunds).toContain('待退費');
    expect(describeViolations('/sms/refunds', blocking(await runAxe(office)))).toBe('');
    await screenshot(office, 'refund-list');
    await office.goto('/sms/payments');
    await signOut(office);
  });
});
