/**
 * The journeys of docs/product.md and the parents' guide, clicked in Chromium as a person clicks them (fields by
 * their labels, buttons by their text), once with JavaScript and once without:
 *  1. the guide: a parent signs in, sees 出勤統計, 到離校簡訊服務 → 到離校簡訊訂購服務, 查詢, 註銷, 確認, reads
 *     註銷審核中!, opens 到離校簡訊註銷服務, sees 審核中, presses 取消;
 *  2. the class teacher approves a cancellation; the parent sees 已核准 with tomorrow's date and the refund; the
 *     next day the subscription shows 已註銷, and the school office marks the refund of the paid order (退費完成);
 *  3. a parent orders the service (新增申請) and the teacher approves it; the next day it is 生效.
 * Each run has its own portal (fresh database, demo data, a FixedClock on a Tuesday the test moves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { addDays } from '../../src/domain/time.js';
import { countSchoolDays, loadHolidays } from '../../src/domain/schools/school-calendar.js';
import { startPortal, type Portal } from './support/portal.js';
import { blocking, describeViolations, runAxe } from './support/axe.js';
import {
  PARENT_CHEN,
  PARENT_WANG,
  SCHOOL_ADMIN,
  TEACHER_401,
  mainText,
  menu,
  screenshot,
  signIn,
  signOut,
} from './support/ui.js';

const PERIOD_START = '2026-08-31';
const PERIOD_END = '2027-01-20';

/** Click something that loads a new page (a link, a form's button) and wait for that page. */
async function go(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

const smsNav = (page: Page) => page.getByRole('navigation', { name: '到離校簡訊服務' });

async function openSms(page: Page, item: string): Promise<void> {
  await go(page, menu(page).getByRole('link', { name: '到離校簡訊服務' }));
  await go(page, smsNav(page).getByRole('link', { name: item }));
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(item);
}

const row = (page: Page, name: string) => page.locator('main tbody tr').filter({ hasText: name });

async function subscriptionOf(portal: Portal, studentNumber: string) {
  return portal
    .knex('subscriptions as s')
    .join('students as st', 'st.id', 's.student_id')
    .where('st.student_number', studentNumber)
    .orderBy('s.id', 'desc')
    .first('s.id', 's.status', 's.effective_on', 's.cancelled_on');
}

async function requestsOf(portal: Portal, subscriptionId: number) {
  return portal
    .knex('review_requests')
    .where({ subscription_id: subscriptionId })
    .orderBy('id')
    .select('kind', 'status', 'effective_on', 'refund_amount');
}

describe.each([
  ['with JavaScript', true],
  ['without JavaScript', false],
])('journeys %s', (_label, javaScriptEnabled) => {
  let portal: Portal;
  const dialogs: string[] = [];
  const shot = (page: Page, name: string) => (javaScriptEnabled ? screenshot(page, name) : Promise.resolve());

  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(async () => {
    await portal?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await (await portal.context({ javaScriptEnabled })).newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    return page;
  }

  it('0. a parent of another school signs in: the 學校 list follows 行政區 and 級別', async () => {
    const page = await newPage();
    await signIn(page, {
      role: '家長',
      district: '文山區',
      level: '國中',
      school: '市立景美國中',
      account: '11201001',
    });
    expect(await page.locator('header').innerText()).toContain('李小華');
    await signOut(page);
  });

  it('1. the guide: a parent cancels the SMS service, reads the notice, then takes the cancellation back (取消)', async () => {
    const page = await newPage();
    await signIn(page, PARENT_WANG);
    expect(await mainText(page)).toContain('出勤統計');
    expect(await page.locator('header').innerText()).toContain('王小明');
    await shot(page, 'home-parent');

    await openSms(page, '到離校簡訊訂購服務');
    await go(page, page.getByRole('button', { name: '查詢' }));
    const mine = row(page, '王小明');
    expect(await mine.count()).toBe(1);
    const rowText = await mine.innerText();
    for (const t of [
      '市立忠孝國小',
      '四年一班',
      '11301001',
      '115學年度上學期',
      `${PERIOD_START}~${PERIOD_END}`,
      '到校SMS',
      '離校SMS',
      '生效',
    ]) {
      expect(rowText).toContain(t);
    }
    expect(await mainText(page)).toMatch(/頁數：1.*總筆數：1/);
    await shot(page, 'subscriptions');

    await go(page, mine.getByRole('link', { name: '註銷' }));
    await go(page, page.getByRole('button', { name: '確認' }));
    const notice = page.getByRole('alert').filter({ hasText: '註銷審核中!' });
    expect(await notice.innerText()).toContain(
      '簡訊訂購申請/註銷申請需經過學校老師審核，審核後隔日生效，請提醒學校老師審核，以確保訂購申請/註銷申請生效',
    );
    await shot(page, 'cancel-notice');
    const sub = await subscriptionOf(portal, '11301001');
    expect(sub.status).toBe('cancel_pending');

    await go(page, smsNav(page).getByRole('link', { name: '到離校簡訊註銷服務' }));
    expect(await mainText(page)).toContain('若您反悔不想註銷，亦可在此畫面取消註銷。');
    const pending = row(page, '王小明');
    expect(await pending.innerText()).toContain('審核中');
    expect((await pending.locator('td[data-label="到校SMS"]').innerText()).trim()).toBe('V');
    expect((await pending.locator('td[data-label="離校SMS"]').innerText()).trim()).toBe('V');
    await shot(page, 'cancellations-pending');
    await go(page, pending.getByRole('button', { name: '取消' }));
    if (javaScriptEnabled) expect(dialogs.at(-1)).toContain('取消註銷');
    expect(await row(page, '王小明').innerText()).toContain('已取消');
    expect((await subscriptionOf(portal, '11301001')).status).toBe('active');
    expect((await requestsOf(portal, sub.id)).map((r) => r.status)).toEqual(['approved', 'withdrawn']);

    await go(page, smsNav(page).getByRole('link', { name: '到離校簡訊訂購服務' }));
    expect(await row(page, '王小明').innerText()).toContain('生效');
    await signOut(page);
  });

  it("2. the class teacher approves a cancellation: 已核准 with tomorrow's date and the refund, 已註銷 the next day, 退費完成", async () => {
    const today = portal.clock.today();
    const tomorrow = addDays(today, 1);
    const parent = await newPage();
    await signIn(parent, PARENT_WANG);
    await openSms(parent, '到離校簡訊訂購服務');
    await go(parent, row(parent, '王小明').getByRole('link', { name: '註銷' }));
    await go(parent, parent.getByRole('button', { name: '確認' }));
    expect(await mainText(parent)).toContain('註銷審核中!');
    await go(parent, smsNav(parent).getByRole('link', { name: '到離校簡訊訂購服務' }));
    expect(await row(parent, '王小明').innerText()).toContain('註銷審核中');
    await signOut(parent);

    const teacher = await newPage();
    await signIn(teacher, TEACHER_401);
    await openSms(teacher, '審核');
    const request = row(teacher, '王小明');
    expect(await request.innerText()).toContain('註銷申請');
    await shot(teacher, 'reviews');
    await go(teacher, request.getByRole('button', { name: '核准' }));
    expect(await mainText(teacher)).toContain(`註銷申請已核准，${tomorrow} 生效`);
    expect(await row(teacher, '王小明').count()).toBe(0);
    await signOut(teacher);

    // The refund: floor(fee × S ÷ P), S the school days from the effective date to the period's end, P the period's.
    const school = await portal.knex('schools').where({ name: '市立忠孝國小' }).first('id');
    const holidays = await loadHolidays(portal.knex, school.id as number, PERIOD_START, PERIOD_END);
    const refund = Math.floor(
      (300 * countSchoolDays(tomorrow, PERIOD_END, holidays)) / countSchoolDays(PERIOD_START, PERIOD_END, holidays),
    );
    const sub = await subscriptionOf(portal, '11301001');
    expect(sub).toMatchObject({ status: 'cancelled', cancelled_on: tomorrow });
    expect((await requestsOf(portal, sub.id)).at(-1)).toMatchObject({
      kind: 'cancellation',
      status: 'approved',
      effective_on: tomorrow,
      refund_amount: refund,
    });

    await signIn(parent, PARENT_WANG);
    // 首頁 tells the parent of the decision, with the date and the refund, until they dismiss it.
    const decisions = parent.getByRole('region', { name: '申請審核結果' });
    expect(await decisions.innerText()).toContain(`註銷申請已核准，${tomorrow} 起停止，退費 NT$${refund}`);
    if (javaScriptEnabled)
      expect(describeViolations('/ (parent, decision notice)', blocking(await runAxe(parent)))).toBe('');
    await shot(parent, 'home-decision-notice');
    await go(parent, decisions.getByRole('button', { name: /^知道了/ }));
    expect(await parent.getByRole('region', { name: '申請審核結果' }).count()).toBe(0);
    await openSms(parent, '到離校簡訊註銷服務');
    const approved = await row(parent, '王小明').filter({ hasText: '已核准' }).innerText();
    expect(approved).toContain(`已核准，${tomorrow} 生效`);
    expect(approved).toContain(`退費 NT$${refund}`);
    await shot(parent, 'cancellations-approved');
    // Still sending today: the order list shows the approved cancellation with the day it stops, not yet 已註銷.
    await go(parent, smsNav(parent).getByRole('link', { name: '到離校簡訊訂購服務' }));
    expect(await row(parent, '王小明').innerText()).toContain(`註銷已核准，${tomorrow} 起停止`);

    // The next morning.
    portal.clock.set(new Date(portal.clock.now().getTime() + 24 * 60 * 60 * 1000));
    expect(portal.clock.today()).toBe(tomorrow);
    await signIn(parent, PARENT_WANG);
    await openSms(parent, '到離校簡訊訂購服務');
    const cancelled = await row(parent, '王小明').innerText();
    expect(cancelled).toContain('已註銷');
    expect(await row(parent, '王小明').getByRole('link', { name: '註銷' }).count()).toBe(0);
    await go(parent, smsNav(parent).getByRole('link', { name: '到離校簡訊註銷服務' }));
    expect(await row(parent, '王小明').filter({ hasText: '已核准' }).innerText()).toContain(`退費 NT$${refund}`);
    await signOut(parent);

    // The school office pays the refund back and marks it (退費完成, with the date).
    const office = await newPage();
    await signIn(office, SCHOOL_ADMIN);
    await openSms(office, '到離校簡訊註銷服務');
    const toPay = row(office, '王小明').filter({ hasText: '已核准' });
    expect(await toPay.getByLabel('退費日期').inputValue()).toBe(tomorrow);
    if (javaScriptEnabled)
      expect(describeViolations('/sms/cancellations (admin)', blocking(await runAxe(office)))).toBe('');
    await go(office, toPay.getByRole('button', { name: '退費完成' }));
    expect(await mainText(office)).toContain(`已標示退費完成（${tomorrow}）`);
    expect(await row(office, '王小明').filter({ hasText: '已核准' }).innerText()).toContain(`退費完成 ${tomorrow}`);
    expect((await requestsOf(portal, sub.id)).at(-1)).toMatchObject({ refund_amount: refund });
    expect(
      (
        await portal
          .knex('review_requests')
          .where({ subscription_id: sub.id, kind: 'cancellation', status: 'approved' })
          .first('refund_paid_on')
      ).refund_paid_on,
    ).toBe(tomorrow);
    await signOut(office);
  });

  it('3. a parent orders the service (新增申請) and the teacher approves it', async () => {
    const today = portal.clock.today();
    const tomorrow = addDays(today, 1);
    const parent = await newPage();
    await signIn(parent, PARENT_CHEN);
    await openSms(parent, '到離校簡訊訂購服務');
    expect(await mainText(parent)).toContain('查無資料');
    await go(parent, parent.getByRole('link', { name: '新增申請' }));
    await parent.getByLabel('學生').selectOption({ index: 0 });
    await parent.getByLabel(/115學年度上學期/).check();
    await parent.getByLabel('到校SMS', { exact: true }).check();
    await parent.getByLabel('離校SMS', { exact: true }).check();
    await go(parent, parent.getByRole('button', { name: '計算費用' }));
    expect(await mainText(parent)).toContain('費用合計：NT$300');
    await shot(parent, 'new-order');
    await go(parent, parent.getByRole('button', { name: '送出申請' }));
    const ordered = await row(parent, '陳小美').innerText();
    expect(ordered).toContain('審核中');
    expect(ordered).toContain(today);
    expect((await subscriptionOf(portal, '11301002')).status).toBe('pending');
    await signOut(parent);

    const teacher = await newPage();
    await signIn(teacher, TEACHER_401);
    await openSms(teacher, '審核');
    const request = row(teacher, '陳小美');
    expect(await request.innerText()).toContain('訂購申請');
    await go(teacher, request.getByRole('button', { name: '核准' }));
    expect(await mainText(teacher)).toContain(`訂購申請已核准，${tomorrow} 生效`);
    await signOut(teacher);
    expect(await subscriptionOf(portal, '11301002')).toMatchObject({ status: 'active', effective_on: tomorrow });

    await signIn(parent, PARENT_CHEN);
    await openSms(parent, '到離校簡訊訂購服務');
    expect(await row(parent, '陳小美').innerText()).toContain(`已核准，${tomorrow} 生效`);
    portal.clock.set(new Date(portal.clock.now().getTime() + 24 * 60 * 60 * 1000));
    await signIn(parent, PARENT_CHEN);
    await openSms(parent, '到離校簡訊訂購服務');
    const active = row(parent, '陳小美');
    expect(await active.innerText()).toContain('生效');
    expect(await active.getByRole('link', { name: '註銷' }).count()).toBe(1);
  });
});
