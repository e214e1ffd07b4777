import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, postForm, signedIn } from '../support/app.js';
import { createPeriod, createSubscription } from '../support/factories.js';
import {
  createOrder,
  createRequest,
  lifecycleSnapshot,
  smsWorld,
  userFor,
} from '../support/subscriptions-factories.js';
import { SubscriptionService, TransitionError } from '../../src/domain/subscriptions/subscription-service.js';
import { FixedClock } from '../../src/clock.js';
import { recordPayments } from '../../src/domain/payments/payments.js';
import { SCRIPT_ACTOR } from '../../src/domain/audit.js';
import { textOf } from '../support/pages.js';

const { app, clock } = buildTestApp();
const knex = testDb().knex;
afterAll(async () => {
  await app.shutdown();
  await closeTestDb();
});
beforeEach(async () => {
  await resetDb();
  clock.set('2026-11-24T01:00:00Z'); // Tuesday 2026-11-24 09:00 in Taipei
});

describe('teacher review: approved on D, effective on D+1', () => {
  it('the 狀態 filter finds each row under the state its 申請狀態 shows, on D and on D+1', async () => {
    const w = await smsWorld(knex);
    const { requestId: orderReq } = await createOrder(knex, w.otherChild, w.periodId, {
      on: '2026-11-24',
      by: '陳媽媽',
    });
    const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${orderReq}/approval`, {})).status).toBe(303);
    expect((await postForm(teacher, '/reviews', `/reviews/${cancelReq}/approval`, {})).status).toBe(303);
    const rowsFor = async (status: string) => {
      const res = await teacher.get(`/sms/subscriptions?status=${status}`);
      expect(res.status).toBe(200);
      return /總筆數：(\d+)/.exec(textOf(res.text))?.[1];
    };
    // Day D: the order shows 已核准，2026-11-25 生效, the cancellation 註銷已核准，2026-11-25 起停止.
    expect(await rowsFor('approved')).toBe('1');
    expect(await rowsFor('cancel_approved')).toBe('1');
    expect(await rowsFor('active')).toBe('0');
    expect(await rowsFor('cancelled')).toBe('0');
    // Day D+1: the order is 生效, the cancellation 已註銷.
    clock.set('2026-11-25T01:00:00Z');
    const tomorrow = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const count = async (status: string) =>
      /總筆數：(\d+)/.exec(textOf((await tomorrow.get(`/sms/subscriptions?status=${status}`)).text))?.[1];
    expect(await count('approved')).toBe('0');
    expect(await count('cancel_approved')).toBe('0');
    expect(await count('active')).toBe('1');
    expect(await count('cancelled')).toBe('1');
  });

  it('a cancellation approved today still shows 註銷已核准 and sends SMS today; from tomorrow it is 已註銷', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const queue = await teacher.get('/reviews');
    expect(queue.status).toBe(200);
    expect(textOf(queue.text)).toContain('註銷申請 四年一班 11301001 王小明 1 王大明 2026-11-24 115學年度上學期');
    const home = await teacher.get('/sms');
    expect(home.text).toMatch(/aria-label="待審核 1 件"/);

    const approved = await postForm(teacher, '/reviews', `/reviews/${requestId}/approval`, {});
    expect(approved.status).toBe(303);
    const after = await teacher.get('/reviews');
    expect(after.text).toContain('註銷申請已核准，2026-11-25 生效。');
    expect(after.text).toContain('目前沒有待審核的申請');

    // 2026-08-31 (Mon) … 2027-01-20 (Wed) has P = 103 school days (20 whole weeks + Mon–Wed, no holiday); from Wed
    // 2026-11-25 to the end S = 41 (Wed–Fri 3 + 7 whole weeks 35 + Mon–Wed 3): floor(300 × 41 ÷ 103) = 119.
    expect(
      await knex('review_requests')
        .where({ id: requestId })
        .first('status', 'effective_on', 'refund_amount', 'decided_by_account_id'),
    ).toEqual({
      status: 'approved',
      effective_on: '2026-11-25',
      refund_amount: 119,
      decided_by_account_id: w.teacher401,
    });
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('status', 'cancelled_on')).toEqual({
      status: 'cancelled',
      cancelled_on: '2026-11-25',
    });
    // Still effective today by the storage contract.
    const effectiveToday = await knex('subscriptions as s')
      .join('service_periods as p', 'p.id', 's.period_id')
      .where('s.id', w.subscriptionId)
      .whereIn('s.status', ['active', 'cancel_pending', 'cancelled'])
      .where('s.effective_on', '<=', '2026-11-24')
      .where((q) => q.whereNull('s.cancelled_on').orWhere('s.cancelled_on', '>', '2026-11-24'))
      .first('s.id');
    expect(effectiveToday).toBeTruthy();

    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await parent.get('/sms/subscriptions')).text)).toContain(
      '到校SMS 離校SMS 註銷已核准，2026-11-25 起停止',
    );
    const cancellations = textOf((await parent.get('/sms/cancellations')).text);
    expect(cancellations).toContain('V V 已核准，2026-11-25 生效 退費 NT$119');
    expect(textOf((await teacher.get('/sms/cancellations')).text)).toContain('退費 NT$119');

    clock.set('2026-11-25T01:00:00Z');
    const parentTomorrow = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const tomorrow = textOf((await parentTomorrow.get('/sms/subscriptions')).text);
    expect(tomorrow).toContain('到校SMS 離校SMS 已註銷');
    expect(tomorrow).not.toContain('註銷 </td>');
  });

  it('an order approved today shows 已核准，D+1 生效, and 生效 from tomorrow', async () => {
    const w = await smsWorld(knex);
    const { subscriptionId: subId, requestId } = await createOrder(knex, w.otherChild, w.periodId, {
      on: '2026-11-24',
      by: '陳媽媽',
    });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    expect((await postForm(admin, '/reviews', `/reviews/${requestId}/approval`, {})).status).toBe(303);
    expect(await knex('subscriptions').where({ id: subId }).first('status', 'effective_on')).toEqual({
      status: 'active',
      effective_on: '2026-11-25',
    });
    expect(await knex('review_requests').where({ id: requestId }).first('refund_amount')).toEqual({
      refund_amount: null,
    });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await parent.get('/sms/subscriptions')).text)).toContain('已核准，2026-11-25 生效');
    clock.set('2026-11-25T01:00:00Z');
    const parentTomorrow = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await parentTomorrow.get('/sms/subscriptions')).text)).toContain('到校SMS 離校SMS 生效 註銷');
  });

  it('approving at 00:30 in Taipei (16:30 UTC the day before) takes effect the next Taipei day', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    clock.set('2026-11-23T16:30:00Z'); // 2026-11-24 00:30 +08:00
    const service = new SubscriptionService(knex, clock);
    const r = await service.approve(await userFor(knex, w.teacher401), requestId);
    expect(r.effectiveOn).toBe('2026-11-25');
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('cancelled_on')).toEqual({
      cancelled_on: '2026-11-25',
    });
  });

  it('reject needs a reason, shows it, and puts a cancelled subscription back to 生效', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId, { requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const formPath = `/reviews/${requestId}/rejection/new`;
    expect((await teacher.get(formPath)).status).toBe(200);
    const before = await lifecycleSnapshot(knex);
    const empty = await postForm(teacher, formPath, `/reviews/${requestId}/rejection`, { reason: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('退回時請填寫原因。');
    expect(await lifecycleSnapshot(knex)).toEqual(before);
    const ok = await postForm(teacher, formPath, `/reviews/${requestId}/rejection`, { reason: '請先與導師聯絡' });
    expect(ok.status).toBe(303);
    expect(await knex('review_requests').where({ id: requestId }).first('status', 'decision_reason')).toEqual({
      status: 'rejected',
      decision_reason: '請先與導師聯絡',
    });
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('status')).toEqual({ status: 'active' });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await parent.get('/sms/cancellations')).text)).toContain('已退回（請先與導師聯絡）');
    const ev = await knex('subscription_events').where({ request_id: requestId }).first();
    expect(ev).toMatchObject({
      event: 'reject',
      from_status: 'cancel_pending',
      to_status: 'active',
      actor_role: 'teacher',
      actor_name: '林老師',
      reason: '請先與導師聯絡',
    });
  });

  it('批次核准 approves every ticked request of the scope', async () => {
    const w = await smsWorld(knex);
    const a = await createRequest(knex, w.subscriptionId);
    const { requestId: b } = await createOrder(knex, w.otherChild, w.periodId);
    const c = await createRequest(knex, w.sub402); // class 402: not this teacher's
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(teacher, '/reviews', '/reviews/batch-approval', {
      ids: [String(a), String(b), String(c)],
    });
    expect(res.status).toBe(303);
    expect(await knex('review_requests').orderBy('id').pluck('status')).toEqual(['approved', 'approved', 'pending']);
    const page = await teacher.get('/reviews');
    expect(page.text).toContain('已核准 2 件');
    expect(page.text).toContain('1 件已處理或無法核准');
    const none = await postForm(teacher, '/reviews', '/reviews/batch-approval', {});
    expect(none.status).toBe(303);
    expect((await teacher.get('/reviews')).text).toContain('請勾選要核准的申請');
  });
});

describe('refunds: computed at approval, shown, marked paid by the school admin', () => {
  it.each([
    ['before the period starts → the full fee', '2026-08-20T01:00:00Z', 300],
    ['in the middle → the remaining days', '2026-11-24T01:00:00Z', 119],
    ['after the period ends → nothing', '2027-01-21T01:00:00Z', 0],
  ])('%s', async (_label, approvedAt, expected) => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    clock.set(approvedAt);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${requestId}/approval`, {})).status).toBe(303);
    expect(await knex('review_requests').where({ id: requestId }).first('refund_amount')).toEqual({
      refund_amount: expected,
    });
  });

  it('counts only the subscribed items, at the start of the period', async () => {
    const w = await smsWorld(knex);
    const periodId = await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
      arrivalFee: 120,
      departureFee: 130,
    });
    const subId = await createSubscription(knex, w.otherChild, periodId, {
      arrival: true,
      departure: false,
      effectiveOn: '2027-02-11',
    });
    const requestId = await createRequest(knex, subId);
    clock.set('2027-02-10T01:00:00Z'); // effective 2027-02-11, the first day
    const r = await new SubscriptionService(knex, clock).approve(await userFor(knex, w.admin), requestId);
    expect(r.refund).toBe(120);
  });

  it('the admin marks 退費完成 with a date (audited); teachers and parents cannot; twice is refused', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    await new SubscriptionService(knex, clock).approve(await userFor(knex, w.teacher401), requestId);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(
      (await postForm(teacher, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, { paidOn: '2026-11-24' }))
        .status,
    ).toBe(404);
    const future = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-12-24',
    });
    expect(future.status).toBe(303);
    expect(await knex('review_requests').where({ id: requestId }).first('refund_paid_on')).toEqual({
      refund_paid_on: null,
    });
    // Only for an order that was paid (繳費): first refused, then paid on 2026-11-20 and refunded on 2026-11-24.
    const unpaid = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-11-24',
    });
    expect(unpaid.status).toBe(409);
    expect(unpaid.text).toContain('此訂購尚未繳費，無法標示退費完成');
    expect(await knex('review_requests').where({ id: requestId }).first('refund_paid_on')).toEqual({
      refund_paid_on: null,
    });
    await recordPayments(
      knex,
      clock,
      await userFor(knex, w.admin),
      { subscriptionIds: [w.subscriptionId], paidOn: '2026-11-20' },
      SCRIPT_ACTOR,
    );
    const list = await admin.get('/sms/cancellations?status=approved');
    expect(list.text).toContain(`action="/sms/refunds/${requestId}/payment"`);
    const paid = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-11-24',
    });
    expect(paid.status).toBe(303);
    expect(
      await knex('review_requests').where({ id: requestId }).first('refund_paid_on', 'refund_paid_by_account_id'),
    ).toEqual({
      refund_paid_on: '2026-11-24',
      refund_paid_by_account_id: w.admin,
    });
    const log = await knex('audit_log').where({ action: 'refund.paid' }).first();
    expect(log).toMatchObject({
      actor_account_id: w.admin,
      target_type: 'review_request',
      target_id: String(requestId),
    });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await parent.get('/sms/cancellations')).text)).toContain(
      '退費 NT$119（41 ÷ 103 個上學日） 已繳費 2026-11-20 收據號碼 000001 退費完成 2026-11-24',
    );
    const twice = await postForm(admin, '/sms/cancellations', `/sms/refunds/${requestId}/payment`, {
      paidOn: '2026-11-24',
    });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('此筆退費已標示為退費完成');
  });
});

describe('races and invalid transitions', () => {
  it('50 concurrent approvals of one request → one transition and one event', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const teacher = await userFor(knex, w.teacher401);
    const admin = await userFor(knex, w.admin);
    const service = new SubscriptionService(knex, new FixedClock('2026-11-24T01:00:00Z'));
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => service.approve(i % 2 ? teacher : admin, requestId)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(losers).toHaveLength(49);
    for (const l of losers) {
      expect(l.reason).toBeInstanceOf(TransitionError);
      expect((l.reason as TransitionError).message).toContain('此申請已處理');
    }
    expect(await knex('subscription_events').where({ request_id: requestId }).count('* as n').first()).toEqual({
      n: 1,
    });
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('status')).toEqual({
      status: 'cancelled',
    });
  });

  it('50 concurrent approvals over HTTP → one 303, the others 409 此申請已處理', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const agents = [
      await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' }),
      await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' }),
    ];
    const tokens = await Promise.all(
      agents.map(async (a) => /name="_csrf" value="([^"]+)"/.exec((await a.get('/reviews')).text)?.[1] ?? ''),
    );
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        agents[i % 2]!.post(`/reviews/${requestId}/approval`)
          .type('form')
          .send({ _csrf: tokens[i % 2] }),
      ),
    );
    expect(responses.filter((r) => r.status === 303)).toHaveLength(1);
    const others = responses.filter((r) => r.status !== 303);
    expect(others.every((r) => r.status === 409 && r.text.includes('此申請已處理'))).toBe(true);
    expect(await knex('subscription_events').where({ request_id: requestId }).count('* as n').first()).toEqual({
      n: 1,
    });
  });

  it('approve racing reject → exactly one outcome', async () => {
    for (let round = 0; round < 5; round++) {
      await resetDb();
      const w = await smsWorld(knex);
      const requestId = await createRequest(knex, w.subscriptionId);
      const service = new SubscriptionService(knex, clock);
      const [teacher, admin] = [await userFor(knex, w.teacher401), await userFor(knex, w.admin)];
      const results = await Promise.allSettled([
        service.approve(teacher, requestId),
        service.reject(admin, requestId, '不同意'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const req = await knex('review_requests').where({ id: requestId }).first('status');
      const sub = await knex('subscriptions').where({ id: w.subscriptionId }).first('status');
      expect([
        ['approved', 'cancelled'],
        ['rejected', 'active'],
      ]).toContainEqual([req.status, sub.status]);
      expect(await knex('subscription_events').where({ request_id: requestId }).count('* as n').first()).toEqual({
        n: 1,
      });
    }
  });

  it('approve racing withdraw → exactly one outcome', async () => {
    for (let round = 0; round < 5; round++) {
      await resetDb();
      const w = await smsWorld(knex);
      const requestId = await createRequest(knex, w.subscriptionId);
      const service = new SubscriptionService(knex, clock);
      const [teacher, parent] = [await userFor(knex, w.teacher401), await userFor(knex, w.parent.accountId)];
      const results = await Promise.allSettled([
        service.approve(teacher, requestId),
        service.withdraw(parent, requestId),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const req = await knex('review_requests').where({ id: requestId }).first('status');
      const sub = await knex('subscriptions').where({ id: w.subscriptionId }).first('status');
      if (req.status === 'approved') expect(sub.status).toBe('cancelled');
      else expect([req.status, sub.status]).toEqual(['withdrawn', 'active']);
      expect(await knex('subscription_events').where({ request_id: requestId }).count('* as n').first()).toEqual({
        n: 1,
      });
    }
  });

  it('approving an approved request and cancelling a pending order give a clear message and change nothing', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${requestId}/approval`, {})).status).toBe(303);
    let before = await lifecycleSnapshot(knex);
    const again = await postForm(teacher, '/reviews', `/reviews/${requestId}/approval`, {});
    expect(again.status).toBe(409);
    expect(again.text).toContain('此申請已處理');
    const rejectAfter = await postForm(teacher, '/reviews', `/reviews/${requestId}/rejection`, { reason: '太晚了' });
    expect(rejectAfter.status).toBe(409);
    expect(await lifecycleSnapshot(knex)).toEqual(before);

    const { subscriptionId: subId } = await createOrder(knex, w.otherChild, w.periodId);
    before = await lifecycleSnapshot(knex);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const confirm = await parent.get(`/sms/subscriptions/${subId}/cancellation/new`);
    expect(confirm.text).toContain('只有「生效」中且尚未到期的訂購可以註銷');
    const cancel = await postForm(parent, '/sms/subscriptions', `/sms/subscriptions/${subId}/cancellation`, {});
    expect(cancel.status).toBe(409);
    expect(cancel.text).toContain('只有「生效」中的訂購可以註銷');
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });

  it('an ended period shows 已到期 and cannot be cancelled', async () => {
    const w = await smsWorld(knex);
    clock.set('2027-01-21T01:00:00Z');
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const list = textOf((await parent.get('/sms/subscriptions')).text);
    expect(list).toContain('到校SMS 離校SMS 已到期');
    const before = await lifecycleSnapshot(knex);
    const res = await postForm(parent, '/sms/subscriptions', `/sms/subscriptions/${w.subscriptionId}/cancellation`, {});
    expect(res.status).toBe(409);
    expect(res.text).toContain('已到期');
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });

  it('a failure injected after the UPDATE leaves no change (one transaction)', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const before = await lifecycleSnapshot(knex);
    const failing = new SubscriptionService(knex, clock, {
      afterUpdate: () => {
        throw new Error('injected failure');
      },
    });
    await expect(failing.approve(await userFor(knex, w.teacher401), requestId)).rejects.toThrow('injected failure');
    await expect(failing.cancel(await userFor(knex, w.parent402.accountId), w.sub402)).rejects.toThrow(
      'injected failure',
    );
    await expect(
      failing.order(await userFor(knex, w.otherParent.accountId), {
        studentId: w.otherChild,
        periodId: w.periodId,
        arrival: true,
        departure: false,
      }),
    ).rejects.toThrow('injected failure');
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });
});
