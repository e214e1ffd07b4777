/**
 * 繳費: the school office marks approved orders as paid (one by one, or the ticked orders of a class), each with
 * the next 收據號碼 of the school — no gaps, no duplicates, even under 20 concurrent payments; 退費完成 only for a
 * paid order and not before its payment; the printable 繳費通知單, 收據 and 退費清單. Bad input: a clear message
 * and nothing written.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createOrder, createRequest, smsWorld, userFor } from '../support/subscriptions-factories.js';
import { recordPayments } from '../../src/domain/payments/payments.js';
import { SCRIPT_ACTOR } from '../../src/domain/audit.js';
import { SubscriptionService, TransitionError } from '../../src/domain/subscriptions/subscription-service.js';
import { textOf } from '../support/pages.js';

// Tuesday 2026-11-24, 09:00 in Taipei. The period 115學年度上學期 2026-08-31 … 2027-01-20 (NT$150 + NT$150).
const { app, clock } = useTestApp();
const knex = testDb().knex;

/** Every row payments write: compared before and after a refused payment. */
async function moneySnapshot() {
  return {
    payments: await knex('payments').orderBy('id').select(),
    counters: await knex('receipt_counters').orderBy('school_id').select(),
    refunds: await knex('review_requests').orderBy('id').select('id', 'refund_paid_on'),
    audit: await knex('audit_log').whereIn('action', ['payment.recorded', 'refund.paid']).count({ n: '*' }).first(),
  };
}

describe('POST /sms/payments (繳費, school office)', () => {
  it('one order: 繳費日期 and 收據號碼 000001, shown on the lists as 已繳費, audited', async () => {
    const w = await smsWorld(knex);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get(`/sms/payments?classId=${w.class401}`);
    expect(page.status).toBe(200);
    // 王小明's order predates stored charges: the whole fee, 103 of 103 school days.
    expect(textOf(page.text)).toContain(
      '王小明 115學年度上學期 到校SMS 離校SMS NT$300 × 103 ÷ 103 個上學日 = NT$300 未繳費',
    );
    const res = await postForm(admin, `/sms/payments?classId=${w.class401}`, '/sms/payments', {
      classId: String(w.class401),
      subscriptionIds: String(w.subscriptionId),
      paidOn: '2026-11-23',
    });
    expect(res.status).toBe(303);
    expect(
      await knex('payments').select(
        'school_id',
        'subscription_id',
        'receipt_number',
        'paid_on',
        'amount',
        'recorded_by_account_id',
      ),
    ).toEqual([
      {
        school_id: w.schoolId,
        subscription_id: w.subscriptionId,
        receipt_number: 1,
        paid_on: '2026-11-23',
        amount: 300,
        recorded_by_account_id: w.admin,
      },
    ]);
    expect(
      await knex('audit_log')
        .where({ action: 'payment.recorded' })
        .first('actor_account_id', 'school_id', 'target_type'),
    ).toEqual({
      actor_account_id: w.admin,
      school_id: w.schoolId,
      target_type: 'payment',
    });
    const after = textOf((await admin.get(res.headers.location!)).text);
    expect(after).toContain('已登錄繳費 1 筆（繳費日期 2026-11-23，收據號碼 000001）');
    expect(after).toContain('已繳費 2026-11-23 收據號碼 000001');
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await parent.get('/sms/subscriptions')).text)).toContain(
      '應繳 NT$300（103 ÷ 103 個上學日） 已繳費 2026-11-23 收據號碼 000001',
    );
  });

  it('the ticked orders of a class at once, numbered in seat order', async () => {
    const w = await smsWorld(knex);
    const seat3 = await createStudent(knex, w.class401, { name: '張小三', seat: 3 });
    const sub3 = await createSubscription(knex, seat3, w.periodId);
    const sub2 = await createSubscription(knex, w.otherChild, w.periodId);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await postForm(admin, `/sms/payments?classId=${w.class401}`, '/sms/payments', {
      classId: String(w.class401),
      subscriptionIds: [String(sub3), String(w.subscriptionId), String(sub2)],
      paidOn: '2026-11-24',
    });
    expect(res.status).toBe(303);
    expect(await knex('payments').orderBy('receipt_number').select('subscription_id', 'receipt_number')).toEqual([
      { subscription_id: w.subscriptionId, receipt_number: 1 }, // seat 1
      { subscription_id: sub2, receipt_number: 2 }, // seat 2
      { subscription_id: sub3, receipt_number: 3 }, // seat 3
    ]);
    expect(textOf((await admin.get(res.headers.location!)).text)).toContain(
      '已登錄繳費 3 筆（繳費日期 2026-11-24，收據號碼 000001～000003）',
    );
  });

  it('refuses with a clear message and writes nothing: twice, not approved, a future date, a date before the order, nothing ticked', async () => {
    const w = await smsWorld(knex);
    const { subscriptionId: pending } = await createOrder(knex, w.otherChild, w.periodId, { on: '2026-11-20' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const pay = (fields: Record<string, string | string[]>) =>
      postForm(admin, `/sms/payments?classId=${w.class401}`, '/sms/payments', {
        classId: String(w.class401),
        ...fields,
      });
    expect((await pay({ subscriptionIds: String(w.subscriptionId), paidOn: '2026-11-20' })).status).toBe(303);
    const before = await moneySnapshot();

    const twice = await pay({ subscriptionIds: String(w.subscriptionId), paidOn: '2026-11-24' });
    expect(twice.status).toBe(409);
    expect(textOf(twice.text)).toContain('王小明 的訂購已於 2026-11-20 繳費（收據號碼 000001），不可重複繳費。');
    const notApproved = await pay({ subscriptionIds: String(pending), paidOn: '2026-11-24' });
    expect(notApproved.status).toBe(409);
    expect(notApproved.text).toContain('陳小美 的訂購尚未核准，只有已核准的訂購可以登錄繳費。');
    // A batch with one bad order writes none of them.
    const mixed = await pay({ subscriptionIds: [String(pending), String(w.subscriptionId)], paidOn: '2026-11-24' });
    expect(mixed.status).toBe(409);
    const future = await pay({ subscriptionIds: String(w.subscriptionId), paidOn: '2026-11-25' });
    expect(future.status).toBe(422);
    expect(future.text).toContain('繳費日期不可晚於今天。');
    const sub402 = await knex('subscriptions').where({ id: w.sub402 }).first('applied_on');
    const early = await pay({ subscriptionIds: String(w.sub402), paidOn: '2026-08-01' });
    expect(early.status).toBe(422);
    expect(early.text).toContain(`繳費日期不可早於申請日期（李小華：${sub402.applied_on as string}）。`);
    const none = await pay({ paidOn: '2026-11-24' });
    expect(none.status).toBe(422);
    expect(none.text).toContain('請勾選要登錄繳費的訂購。');
    const badDate = await pay({ subscriptionIds: String(w.sub402), paidOn: '2026-02-30' });
    expect(badDate.status).toBe(422);
    expect(badDate.text).toContain('繳費日期有誤');
    expect(await moneySnapshot()).toEqual(before);
  });

  it('a 收據號碼 cannot be typed (the form refuses the field) and the database refuses a reused one', async () => {
    const w = await smsWorld(knex);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const before = await moneySnapshot();
    const typed = await postForm(admin, `/sms/payments?classId=${w.class401}`, '/sms/payments', {
      classId: String(w.class401),
      subscriptionIds: String(w.subscriptionId),
      paidOn: '2026-11-24',
      receiptNumber: '7',
    });
    expect(typed.status).toBe(422);
    expect(typed.text).toContain('表單含有不允許的欄位');
    expect(await moneySnapshot()).toEqual(before);
    await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-24' },
      SCRIPT_ACTOR,
    );
    await expect(
      knex('payments').insert({
        school_id: w.schoolId,
        subscription_id: w.sub402,
        receipt_number: 1,
        paid_on: '2026-11-24',
        amount: 300,
      }),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('another school’s order, a teacher and a parent: 404 and nothing written', async () => {
    const w = await smsWorld(knex);
    const other = await createSchoolWorld(knex, { schoolName: '市立景美國中', district: '文山區' });
    const otherAdmin = await signedIn(app, { role: 'school_admin', schoolId: other.schoolId, login: 'admin' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const before = await moneySnapshot();
    const body = { classId: String(w.class401), subscriptionIds: String(w.subscriptionId), paidOn: '2026-11-24' };
    expect((await postForm(otherAdmin, '/sms/payments', '/sms/payments', body)).status).toBe(404);
    expect((await otherAdmin.get(`/sms/payments?classId=${w.class401}`)).status).toBe(404);
    expect((await otherAdmin.get(`/sms/payments/notices?classId=${w.class401}`)).status).toBe(404);
    expect((await otherAdmin.get(`/sms/refunds?classId=${w.class401}`)).status).toBe(404);
    expect((await postForm(teacher, '/sms/subscriptions', '/sms/payments', body)).status).toBe(404);
    expect((await teacher.get('/sms/payments')).status).toBe(404);
    expect((await postForm(parent, '/sms/subscriptions', '/sms/payments', body)).status).toBe(404);
    expect(await moneySnapshot()).toEqual(before);
    // Another school's 收據 answers 404 too.
    const [payment] = await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-24' },
      SCRIPT_ACTOR,
    );
    expect((await otherAdmin.get(`/sms/payments/${payment!.paymentId}/receipt`)).status).toBe(404);
  });
});

describe('收據號碼: one sequence per school, no gaps and no duplicates', () => {
  it('20 concurrent payments of 20 orders get 1 … 20; 20 concurrent payments of one order record it once', async () => {
    const w = await smsWorld(knex);
    const subs: number[] = [];
    for (let i = 0; i < 20; i++)
      subs.push(await createSubscription(knex, await createStudent(knex, w.class402, { seat: 10 + i }), w.periodId));
    const admin = await userFor(knex, w.admin);
    const results = await Promise.allSettled(
      subs.map((id) =>
        recordPayments(knex, clock, admin, { subscriptionIds: [id], paidOn: '2026-11-24' }, SCRIPT_ACTOR),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const numbers = (await knex('payments')
      .where({ school_id: w.schoolId })
      .orderBy('receipt_number')
      .pluck('receipt_number')) as number[];
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(await knex('payments').pluck('subscription_id'))).toEqual(new Set(subs));
    expect(await knex('receipt_counters').where({ school_id: w.schoolId }).first('last_number')).toEqual({
      last_number: 20,
    });

    const same = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        recordPayments(knex, clock, admin, { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-24' }, SCRIPT_ACTOR),
      ),
    );
    expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of same.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(TransitionError);
      expect((r.reason as Error).message).toContain('不可重複繳費');
    }
    expect(await knex('payments').where({ subscription_id: w.subscriptionId }).pluck('receipt_number')).toEqual([21]);
    expect(await knex('receipt_counters').where({ school_id: w.schoolId }).first('last_number')).toEqual({
      last_number: 21,
    });
    // A refused payment gives no number away: the next one is 22.
    const [next] = await recordPayments(
      knex,
      clock,
      admin,
      { subscriptionIds: [w.sub402], paidOn: '2026-11-24' },
      SCRIPT_ACTOR,
    );
    expect(next!.receiptNumber).toBe(22);
  });

  it('each school counts from 1', async () => {
    const w = await smsWorld(knex);
    const other = await createSchoolWorld(knex, { schoolName: '市立景美國中', district: '文山區' });
    const otherPeriod = await createPeriod(knex, other.schoolId, { name: '115學年度上學期' });
    const otherSub = await createSubscription(knex, other.student, otherPeriod);
    await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-24' },
      SCRIPT_ACTOR,
    );
    await recordPayments(
      knex,
      clock,
      await userFor(knex, other.admin),
      { subscriptionIds: [otherSub], paidOn: '2026-11-24' },
      SCRIPT_ACTOR,
    );
    expect(await knex('payments').orderBy('school_id').select('school_id', 'receipt_number')).toEqual([
      { school_id: w.schoolId, receipt_number: 1 },
      { school_id: other.schoolId, receipt_number: 1 },
    ]);
  });
});

describe('退費完成 only after the payment', () => {
  it('refused for an unpaid order and before the payment date, then marked (audited)', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId, { kind: 'cancellation' });
    await new SubscriptionService(knex, clock).approve(await userFor(knex, w.teacher401), requestId);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    // Unpaid: no 退費完成 form, and a POST is refused.
    const list = await admin.get('/sms/cancellations?status=approved');
    expect(list.text).not.toContain(`action="/sms/refunds/${requestId}/payment"`);
    expect(textOf(list.text)).toContain('退費 NT$119（41 ÷ 103 個上學日） 未繳費');
    let before = await moneySnapshot();
    const unpaid = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-11-24',
    });
    expect(unpaid.status).toBe(409);
    expect(unpaid.text).toContain('此訂購尚未繳費，無法標示退費完成：請先登錄繳費。');
    expect(await moneySnapshot()).toEqual(before);

    await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-20' },
      SCRIPT_ACTOR,
    );
    before = await moneySnapshot();
    const early = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-11-19',
    });
    expect(early.status).toBe(303);
    expect(textOf((await admin.get(early.headers.location!)).text)).toContain(
      '退費日期不可早於繳費日期（2026-11-20）。',
    );
    expect(await moneySnapshot()).toEqual(before);

    const page = await admin.get('/sms/cancellations?status=approved');
    expect(page.text).toContain(`action="/sms/refunds/${requestId}/payment"`);
    expect(page.text).toContain('min="2026-11-20"');
    const ok = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-11-20',
    });
    expect(ok.status).toBe(303);
    expect(await knex('review_requests').where({ id: requestId }).first('refund_paid_on')).toEqual({
      refund_paid_on: '2026-11-20',
    });
    expect(await knex('audit_log').where({ action: 'refund.paid' }).count({ n: '*' }).first()).toEqual({ n: 1 });
  });
});

describe('the printable pages', () => {
  it('繳費通知單: one per student with an approved unpaid order, with the amount, its school days and how to pay', async () => {
    const w = await smsWorld(knex);
    const paid = await createSubscription(knex, w.otherChild, w.periodId);
    await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [paid], paidOn: '2026-11-24' },
      SCRIPT_ACTOR,
    );
    // 王小明 re-charged as approved today by the rule: effective Wed 11-25, S 41 of P 103 → floor(300 × 41 ÷ 103) = 119.
    await knex('subscriptions')
      .where({ id: w.subscriptionId })
      .update({ charge_amount: 119, charge_days: 41, charge_period_days: 103 });
    for (const who of [
      { role: 'school_admin' as const, login: 'admin' },
      { role: 'teacher' as const, login: 't401' },
    ]) {
      const agent = await signedIn(app, { schoolId: w.schoolId, ...who });
      const res = await agent.get(`/sms/payments/notices?classId=${w.class401}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('/public/css/print.css');
      expect(res.text).not.toContain('aria-label="主選單"');
      const text = textOf(res.text);
      expect(text).toContain('到離校簡訊服務 繳費通知單');
      expect(text).toContain('王小明（學號 11301001）');
      expect(text).toContain('NT$300 × 41 ÷ 103 個上學日 = NT$119');
      expect(text).toContain('NT$119 新臺幣壹佰壹拾玖元整');
      expect(text).toContain('請將應繳金額交至學校辦公室');
      expect(text).not.toContain('陳小美'); // already paid
    }
    const teacher402 = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't402' });
    expect((await teacher402.get(`/sms/payments/notices?classId=${w.class401}`)).status).toBe(404);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await parent.get(`/sms/payments/notices?classId=${w.class401}`)).status).toBe(404);
  });

  it('收據: number, date, student, class, items, the amount in figures and in words; for the office and the parent only', async () => {
    const w = await smsWorld(knex);
    const [p] = await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-23' },
      SCRIPT_ACTOR,
    );
    for (const who of [{ role: 'school_admin' as const, login: 'admin' }, { login: '11301001' }]) {
      const agent = await signedIn(app, { schoolId: w.schoolId, ...who });
      const res = await agent.get(`/sms/payments/${p!.paymentId}/receipt`);
      expect(res.status).toBe(200);
      const text = textOf(res.text);
      for (const part of [
        '收據',
        '收據號碼： 000001',
        '繳費日期：2026-11-23',
        '王小明（學號 11301001）',
        '四年一班 1 號',
        '115學年度上學期（2026-08-31~2027-01-20）到校SMS 離校SMS',
        'NT$300',
        '新臺幣參佰元整',
        '市立忠孝國小',
      ])
        expect(text).toContain(part);
    }
    const otherParent = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect((await otherParent.get(`/sms/payments/${p!.paymentId}/receipt`)).status).toBe(404);
  });

  it('退費清單: the class’s approved cancellations with refund, days, paid or not', async () => {
    const w = await smsWorld(knex);
    const seat2 = await createSubscription(knex, w.otherChild, w.periodId);
    const service = new SubscriptionService(knex, clock);
    const teacher = await userFor(knex, w.teacher401);
    await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-20' },
      SCRIPT_ACTOR,
    );
    await service.approve(teacher, await createRequest(knex, w.subscriptionId, { kind: 'cancellation' }));
    await service.approve(teacher, await createRequest(knex, seat2, { kind: 'cancellation' }));
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await admin.get(`/sms/refunds?classId=${w.class401}`);
    expect(res.status).toBe(200);
    const text = textOf(res.text);
    expect(text).toContain('到離校簡訊服務 退費清單');
    expect(text).toContain('共 2 筆，退費合計 NT$238');
    expect(text).toContain(
      '1 王小明 115學年度上學期 到校SMS 離校SMS 2026-11-25 NT$119 41 ÷ 103 已繳費 2026-11-20（收據號碼 000001） 待退費',
    );
    expect(text).toContain('2 陳小美 115學年度上學期 到校SMS 離校SMS 2026-11-25 NT$119 41 ÷ 103 未繳費 無需退費');
    const teacherAgent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await teacherAgent.get(`/sms/refunds?classId=${w.class401}`)).status).toBe(404);
  });
});
