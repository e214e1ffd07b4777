/**
 * Words that cannot be misread (docs/product.md): an approved order and an approved cancellation read
 * differently on 到離校簡訊訂購服務, and an order for a period still to come says the period's first day
 * everywhere — the row, the database, the 批次核准 message and 申請紀錄 — never "隔日".
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createPeriod } from '../support/factories.js';
import { createOrder, createRequest, smsWorld } from '../support/subscriptions-factories.js';
import { textOf } from '../support/pages.js';

const { app, clock } = useTestApp(); // Tuesday 2026-11-24 09:00 in Taipei
const knex = testDb().knex;
const rowOf = (html: string, name: string) =>
  textOf(/<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '').split(name)[1] ?? '';

describe('到離校簡訊訂購服務: the two approved labels, on D and on D+1', () => {
  it('an approved order reads 已核准，D 生效 and an approved cancellation 註銷已核准，D 起停止; the next day 生效 and 已註銷', async () => {
    const w = await smsWorld(knex);
    const { requestId: orderReq } = await createOrder(knex, w.otherChild, w.periodId, {
      on: '2026-11-24',
      by: '陳媽媽',
    });
    const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${orderReq}/approval`, {})).status).toBe(303);
    expect((await postForm(teacher, '/reviews', `/reviews/${cancelReq}/approval`, {})).status).toBe(303);

    // Day D, as the teacher and as each parent.
    const list = (await teacher.get('/sms/subscriptions')).text;
    expect(rowOf(list, '陳小美')).toContain('已核准，2026-11-25 生效');
    expect(rowOf(list, '陳小美')).not.toContain('註銷已核准');
    expect(rowOf(list, '王小明')).toContain('註銷已核准，2026-11-25 起停止');
    expect(textOf(list)).not.toMatch(/王小明 1 [^ ]+ [\d-]+ 115學年度上學期 [\d~-]+ 到校SMS 離校SMS 已核准/);
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await wang.get('/sms/subscriptions')).text)).toContain(
      '到校SMS 離校SMS 註銷已核准，2026-11-25 起停止',
    );
    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await chen.get('/sms/subscriptions')).text)).toContain('到校SMS 離校SMS 已核准，2026-11-25 生效');
    // 到離校簡訊註銷服務 keeps 已核准，D 生效 with the refund as stored on the cancellation.
    const refund = (await knex('review_requests').where({ id: cancelReq }).first('refund_amount'))
      .refund_amount as number;
    expect(textOf((await wang.get('/sms/cancellations')).text)).toContain(
      `V V 已核准，2026-11-25 生效 退費 NT$${refund}`,
    );

    // Day D+1.
    clock.set('2026-11-25T01:00:00Z');
    const teacherTomorrow = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const next = (await teacherTomorrow.get('/sms/subscriptions')).text;
    expect(rowOf(next, '陳小美')).toContain('到校SMS 離校SMS 生效');
    expect(rowOf(next, '陳小美')).not.toContain('已核准');
    expect(rowOf(next, '王小明')).toContain('到校SMS 離校SMS 已註銷');
    expect(rowOf(next, '王小明')).not.toContain('已核准');
    const wangTomorrow = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await wangTomorrow.get('/sms/cancellations')).text)).toContain(
      `V V 已核准，2026-11-25 生效 退費 NT$${refund}`,
    );
  });

  it('the 狀態 filter offers each label and finds the row under it', async () => {
    const w = await smsWorld(knex);
    const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${cancelReq}/approval`, {})).status).toBe(303);
    const page = await teacher.get('/sms/subscriptions?status=cancel_approved');
    expect(page.text).toContain('<option value="cancel_approved" selected>註銷已核准（尚未停止）</option>');
    expect(page.text).toContain('<option value="approved">已核准（尚未生效）</option>');
    expect(textOf(page.text)).toContain('總筆數：1');
    expect(rowOf(page.text, '王小明')).toContain('註銷已核准，2026-11-25 起停止');
    expect(textOf((await teacher.get('/sms/subscriptions?status=approved')).text)).toContain('總筆數：0');
  });

  it("a rejected order shows the teacher's reason on 到離校簡訊訂購服務, and a rejected cancellation on 到離校簡訊註銷服務", async () => {
    const w = await smsWorld(knex);
    const { requestId: orderReq } = await createOrder(knex, w.otherChild, w.periodId, {
      on: '2026-11-24',
      by: '陳媽媽',
    });
    const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(
      (
        await postForm(teacher, `/reviews/${orderReq}/rejection/new`, `/reviews/${orderReq}/rejection`, {
          reason: '請先登記並驗證手機',
        })
      ).status,
    ).toBe(303);
    expect(
      (
        await postForm(teacher, `/reviews/${cancelReq}/rejection/new`, `/reviews/${cancelReq}/rejection`, {
          reason: '學期中不受理註銷',
        })
      ).status,
    ).toBe(303);
    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await chen.get('/sms/subscriptions')).text)).toContain(
      '到校SMS 離校SMS 已退回（請先登記並驗證手機）',
    );
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect(textOf((await wang.get('/sms/cancellations')).text)).toContain('V V 已退回（學期中不受理註銷）');
    // The other family sees neither reason.
    expect((await wang.get('/sms/subscriptions')).text).not.toContain('請先登記並驗證手機');
    expect((await chen.get('/sms/cancellations')).text).not.toContain('學期中不受理註銷');
  });
});

describe('an order for a period still to come takes effect on its first day', () => {
  it('approved today (批次核准): the database, the list, the batch message and 申請紀錄 all say the first day', async () => {
    const w = await smsWorld(knex);
    const nextPeriod = await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
    });
    const { subscriptionId: future, requestId: futureReq } = await createOrder(knex, w.otherChild, nextPeriod, {
      on: '2026-11-24',
      by: '陳媽媽',
    });
    const { requestId: currentNextReq } = await createOrder(knex, w.student, nextPeriod, { on: '2026-11-24' });
    const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(teacher, '/reviews', '/reviews/batch-approval', {
      ids: [String(futureReq), String(currentNextReq), String(cancelReq)],
    });
    expect(res.status).toBe(303);
    const flash = textOf((await teacher.get('/reviews')).text);
    expect(flash).toContain(
      '批次核准：已核准 3 件（訂購申請 2 件，2027-02-11 生效；註銷申請 1 件，2026-11-25 生效）。',
    );
    expect(flash).not.toContain('隔日生效）');

    expect(await knex('subscriptions').where({ id: future }).first('status', 'effective_on')).toEqual({
      status: 'active',
      effective_on: '2027-02-11',
    });
    expect(await knex('review_requests').where({ id: futureReq }).first('status', 'effective_on')).toEqual({
      status: 'approved',
      effective_on: '2027-02-11',
    });

    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await chen.get('/sms/subscriptions')).text)).toContain(
      '115學年度下學期 2027-02-11~2027-06-30 到校SMS 離校SMS 已核准，2027-02-11 生效',
    );
    const history = textOf((await chen.get(`/sms/subscriptions/${future}/history`)).text);
    expect(history).toContain('申請狀態 已核准，2027-02-11 生效');
    // 申請: approved with its date; 異動紀錄: the approval recorded as approved, not as already in effect.
    expect(history).toContain('訂購申請 陳媽媽 2026-11-24 已核准，2027-02-11 生效 2027-02-11');
    expect(history).toMatch(/核准 林老師 教師 審核中 已核准，2027-02-11 生效/);
    expect(history).not.toMatch(/核准 林老師 教師 審核中 生效/);

    // The day before the period: still waiting for its first day; on it: 生效.
    clock.set('2027-02-10T01:00:00Z');
    const before = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await before.get('/sms/subscriptions')).text)).toContain('已核准，2027-02-11 生效');
    clock.set('2027-02-11T01:00:00Z');
    const firstDay = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect(textOf((await firstDay.get('/sms/subscriptions')).text)).toContain(
      '2027-02-11~2027-06-30 到校SMS 離校SMS 生效',
    );
  });

  it('approved one by one: the message says the first day', async () => {
    const w = await smsWorld(knex);
    const nextPeriod = await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
    });
    const { requestId: req } = await createOrder(knex, w.otherChild, nextPeriod, { on: '2026-11-24' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    expect((await postForm(admin, '/reviews', `/reviews/${req}/approval`, {})).status).toBe(303);
    expect(textOf((await admin.get('/reviews')).text)).toContain('訂購申請已核准，2027-02-11 生效。');
  });
});
