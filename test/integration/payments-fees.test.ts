/**
 * Fees and refunds count school days (docs/product.md): what an order is charged and what a cancellation refunds, fixed
 * at approval from the effective date on the school's calendar (weekends and holidays — a 寒假 range — excluded),
 * and the same figure on the parent's, the teacher's and the office's pages. 新增申請 shows the arithmetic.
 *
 * The period of these tests: 2027-01-04 (Mon) … 2027-02-26 (Fri) = 8 whole weeks = 40 weekdays; its 寒假
 * 2027-01-25 (Mon) … 2027-02-05 (Fri) takes 10 of them: P = 30 school days. Fees: 到校SMS NT$150, 離校SMS NT$100.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createOrder, createRequest, userFor } from '../support/subscriptions-factories.js';
import { addHolidayRange } from '../../src/domain/schools/school-calendar.js';
import { SCRIPT_ACTOR } from '../../src/domain/audit.js';
import { SubscriptionService } from '../../src/domain/subscriptions/subscription-service.js';
import { textOf } from '../support/pages.js';

const { app, clock } = useTestApp();
const knex = testDb().knex;
/** 09:00 in Taipei on a date. */
const at = (date: string) => `${date}T01:00:00Z`;

async function world() {
  const w = await createSchoolWorld(knex);
  const periodId = await createPeriod(knex, w.schoolId, {
    name: '115學年度寒假期',
    startsOn: '2027-01-04',
    endsOn: '2027-02-26',
    arrivalFee: 150,
    departureFee: 100,
  });
  await addHolidayRange(
    knex,
    { schoolIds: [w.schoolId], from: '2027-01-25', to: '2027-02-05', name: '寒假' },
    SCRIPT_ACTOR,
  );
  return { ...w, periodId };
}
type World = Awaited<ReturnType<typeof world>>;

/** An order of `studentId` approved by the class teacher on `approvedOn` (effective the next day). */
async function orderApprovedOn(
  w: World,
  studentId: number,
  approvedOn: string,
  items: { arrival: boolean; departure: boolean } = { arrival: true, departure: true },
) {
  const { subscriptionId, requestId } = await createOrder(knex, studentId, w.periodId, items);
  clock.set(at(approvedOn));
  await new SubscriptionService(knex, clock).approve(await userFor(knex, w.teacher401), requestId);
  return subscriptionId;
}

/** An active order from the period's first day (charged the whole NT$250), cancelled and approved on `approvedOn`. */
async function cancellationApprovedOn(w: World, studentId: number, approvedOn: string) {
  const subscriptionId = await orderApprovedOn(w, studentId, '2027-01-03');
  const requestId = await createRequest(knex, subscriptionId, { kind: 'cancellation' });
  clock.set(at(approvedOn));
  await new SubscriptionService(knex, clock).approve(await userFor(knex, w.teacher401), requestId);
  return { subscriptionId, requestId };
}

const chargeOf = (id: number) =>
  knex('subscriptions').where({ id }).first('effective_on', 'charge_amount', 'charge_days', 'charge_period_days');
const refundOf = (id: number) =>
  knex('review_requests').where({ id }).first('effective_on', 'refund_amount', 'refund_days', 'refund_period_days');

describe('the charge of an order, fixed at approval, by school day', () => {
  it('at the period’s start: the whole fee (S = P = 30)', async () => {
    const w = await world();
    // Approved Sunday 2027-01-03 → effective Monday 01-04, the first day: NT$250, all 30 school days.
    const sub = await orderApprovedOn(w, w.student, '2027-01-03');
    expect(await chargeOf(sub)).toEqual({
      effective_on: '2027-01-04',
      charge_amount: 250,
      charge_days: 30,
      charge_period_days: 30,
    });
  });

  it('after the 寒假 range: the remaining school days (S = 13 of P = 30)', async () => {
    const w = await world();
    // Approved Tue 02-09 → effective Wed 02-10: Wed–Fri 02-10…02-12 (3) + 02-15…02-26 (10) = S 13;
    // floor(250 × 13 ÷ 30) = floor(108.33) = 108.
    const sub = await orderApprovedOn(w, w.student, '2027-02-09');
    expect(await chargeOf(sub)).toEqual({
      effective_on: '2027-02-10',
      charge_amount: 108,
      charge_days: 13,
      charge_period_days: 30,
    });
  });

  it('taking effect on the first day of the break costs the same as after it (no SMS in the break)', async () => {
    const w = await world();
    // Approved Sun 01-24 → effective Mon 01-25 (寒假): S = 02-08…02-26 = 15; approved Sun 02-07 → effective Mon
    // 02-08: S = 15. Both floor(250 × 15 ÷ 30) = 125.
    const atBreak = await orderApprovedOn(w, w.student, '2027-01-24');
    const after = await orderApprovedOn(
      w,
      await createStudent(knex, w.class401, { name: '陳小美', seat: 2 }),
      '2027-02-07',
    );
    expect(await chargeOf(atBreak)).toMatchObject({ charge_amount: 125, charge_days: 15, charge_period_days: 30 });
    expect(await chargeOf(after)).toMatchObject({ charge_amount: 125, charge_days: 15, charge_period_days: 30 });
  });

  it('on its last school day: one day (S = 1), and only the subscribed items', async () => {
    const w = await world();
    // Approved Thu 02-25 → effective Fri 02-26, the last day: 到校SMS only, floor(150 × 1 ÷ 30) = 5.
    const sub = await orderApprovedOn(w, w.student, '2027-02-25', { arrival: true, departure: false });
    expect(await chargeOf(sub)).toEqual({
      effective_on: '2027-02-26',
      charge_amount: 5,
      charge_days: 1,
      charge_period_days: 30,
    });
  });

  it('after its end: nothing (S = 0)', async () => {
    const w = await world();
    // Approved on the last day, Fri 02-26 → effective Sat 02-27, after the period: 0.
    const sub = await orderApprovedOn(w, w.student, '2027-02-26');
    expect(await chargeOf(sub)).toEqual({
      effective_on: '2027-02-27',
      charge_amount: 0,
      charge_days: 0,
      charge_period_days: 30,
    });
  });
});

describe('the refund of a cancellation, fixed at approval, by school day', () => {
  it.each([
    // approved on, effective, S, refund = floor(250 × S ÷ 30) of the NT$250 charged
    ['before the period starts: everything charged', '2027-01-02', '2027-01-03', 30, 250],
    ['at its start (Mon 01-04): S = 30', '2027-01-03', '2027-01-04', 30, 250],
    ['on the first day of 寒假 (Mon 01-25): S = 02-08…02-26 = 15 → 125', '2027-01-24', '2027-01-25', 15, 125],
    ['after 寒假 (Mon 02-08): S = 15 → the same 125', '2027-02-07', '2027-02-08', 15, 125],
    ['on its last school day (Fri 02-26): S = 1 → floor(8.33) = 8', '2027-02-25', '2027-02-26', 1, 8],
    ['after its end (Sat 02-27): S = 0 → 0', '2027-02-26', '2027-02-27', 0, 0],
  ])('%s', async (_label, approvedOn, effectiveOn, days, amount) => {
    const w = await world();
    const subscriptionId = await createSubscription(knex, w.student, w.periodId, { effectiveOn: '2027-01-04' });
    await knex('subscriptions')
      .where({ id: subscriptionId })
      .update({ charge_amount: 250, charge_days: 30, charge_period_days: 30 });
    const requestId = await createRequest(knex, subscriptionId, { kind: 'cancellation' });
    clock.set(at(approvedOn));
    await new SubscriptionService(knex, clock).approve(await userFor(knex, w.teacher401), requestId);
    expect(await refundOf(requestId)).toEqual({
      effective_on: effectiveOn,
      refund_amount: amount,
      refund_days: days,
      refund_period_days: 30,
    });
  });
});

describe('parent, teacher and office see the same figure with the days counted', () => {
  it('the order list, 申請紀錄, 繳費管理 and 到離校簡訊註銷服務 show NT$108 for 13 of 30 school days', async () => {
    const w = await world();
    const sub = await orderApprovedOn(w, w.student, '2027-02-09');
    clock.set(at('2027-02-10'));
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    for (const agent of [parent, teacher, admin]) {
      const list = textOf((await agent.get('/sms/subscriptions')).text);
      expect(list).toContain('應繳 NT$108（13 ÷ 30 個上學日） 未繳費');
      const history = textOf((await agent.get(`/sms/subscriptions/${sub}/history`)).text);
      expect(history).toContain('應繳金額 NT$250 × 13 ÷ 30 個上學日 = NT$108');
    }
    const office = textOf((await admin.get(`/sms/payments?classId=${w.class401}`)).text);
    expect(office).toContain('王小明 115學年度寒假期 到校SMS 離校SMS NT$250 × 13 ÷ 30 個上學日 = NT$108 未繳費');
  });

  it('a refund shows its school days on 到離校簡訊註銷服務 for the parent and the teacher', async () => {
    const w = await world();
    // Charged NT$250 from the first day; cancelled effective Mon 02-08: floor(250 × 15 ÷ 30) = 125.
    await cancellationApprovedOn(w, w.student, '2027-02-07');
    clock.set(at('2027-02-08'));
    for (const login of [{ login: '11301001' }, { role: 'teacher' as const, login: 't401' }]) {
      const agent = await signedIn(app, { schoolId: w.schoolId, ...login });
      expect(textOf((await agent.get('/sms/cancellations')).text)).toContain(
        '已核准，2027-02-08 生效 退費 NT$125（15 ÷ 30 個上學日）',
      );
    }
  });
});

describe('新增申請 shows the amount with its arithmetic', () => {
  it('after the period started: NT$250 × 13 ÷ 30 個上學日 = NT$108 (if approved today, effective tomorrow)', async () => {
    const w = await world();
    clock.set(at('2027-02-09'));
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const form = await wang.get('/sms/subscriptions/new');
    expect(form.text).toContain('data-quote-11="NT$250 × 13 ÷ 30 個上學日 = NT$108"');
    expect(form.text).toContain('data-quote-10="NT$150 × 13 ÷ 30 個上學日 = NT$65"'); // floor(65.0) = 65
    const preview = await postForm(wang, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.student),
      periodId: String(w.periodId),
      arrival: '1',
      departure: '1',
      intent: 'preview',
    });
    expect(preview.status).toBe(200);
    const text = textOf(preview.text);
    expect(text).toContain('費用合計：NT$250 × 13 ÷ 30 個上學日 = NT$108');
    expect(text).toContain(
      '若今日核准，自 2027-02-10 生效，收取至 2027-02-26 剩餘 13 個上學日的費用（全期 30 個上學日',
    );
    expect(await knex('subscriptions').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('before the period starts: the whole fee with the period’s school days', async () => {
    const w = await world();
    clock.set(at('2026-12-20'));
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const preview = await postForm(wang, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.student),
      periodId: String(w.periodId),
      arrival: '1',
      intent: 'preview',
    });
    expect(textOf(preview.text)).toContain('費用合計：NT$150 （全期 30 個上學日）');
  });
});
