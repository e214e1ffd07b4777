/**
 * Parents are told (docs/product.md): each decision on their children's requests shows on 首頁 — 核准 with
 * the effective date (and a cancellation's refund as stored on it), 退回 with the teacher's reason — until
 * they dismiss it (知道了 / 全部知道了: POST forms with CSRF). Another family never sees or dismisses it.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { getCsrf, postForm, signedIn, useTestApp } from '../support/app.js';
import { addChild, createParent, createPeriod, createSubscription } from '../support/factories.js';
import { createOrder, createRequest, smsWorld } from '../support/subscriptions-factories.js';
import { textOf } from '../support/pages.js';

const { app, clock } = useTestApp(); // Tuesday 2026-11-24 09:00 in Taipei
const knex = testDb().knex;
const noticesOf = (html: string) =>
  textOf(/<section class="panel home-decisions"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '');

async function decided() {
  const w = await smsWorld(knex);
  // 王小明's cancellation, approved by his teacher: effective 2026-11-25.
  const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
  // 陳小美's order, rejected with a reason.
  const { subscriptionId: orderSub, requestId: orderReq } = await createOrder(knex, w.otherChild, w.periodId, {
    on: '2026-11-24',
    by: '陳媽媽',
  });
  const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
  expect((await postForm(teacher, '/reviews', `/reviews/${cancelReq}/approval`, {})).status).toBe(303);
  expect(
    (
      await postForm(teacher, `/reviews/${orderReq}/rejection/new`, `/reviews/${orderReq}/rejection`, {
        reason: '請先到註冊服務登記手機',
      })
    ).status,
  ).toBe(303);
  const refund = (await knex('review_requests').where({ id: cancelReq }).first('refund_amount'))
    .refund_amount as number;
  const noticeOf = async (requestId: number, guardianId: number) =>
    (await knex('decision_notices').where({ request_id: requestId, guardian_id: guardianId }).first('id')).id as number;
  return { w, teacher, cancelReq, orderReq, orderSub, refund, noticeOf };
}

describe('首頁: the parent is told of each decision until they dismiss it', () => {
  it('an approval shows with its date and refund, a rejection with its reason; each parent sees only their own', async () => {
    const { w, refund } = await decided();
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const wangHome = noticesOf((await wang.get('/')).text);
    expect(wangHome).toContain('申請審核結果');
    expect(wangHome).toContain(
      `王小明 115學年度上學期（到校SMS 離校SMS）： 註銷申請已核准，2026-11-25 起停止 ，退費 NT$${refund}`,
    );
    expect(wangHome).not.toContain('陳小美');
    expect(wangHome).not.toContain('請先到註冊服務登記手機');

    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const chenHome = noticesOf((await chen.get('/')).text);
    expect(chenHome).toContain(
      '陳小美 115學年度上學期（到校SMS 離校SMS）： 訂購申請已退回 ，原因：請先到註冊服務登記手機',
    );
    expect(chenHome).not.toContain('王小明');

    // Staff 首頁 has no such section; a parent with no decision neither.
    const teacherHome = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await teacherHome.get('/')).text).not.toContain('申請審核結果');
    const li = await signedIn(app, { schoolId: w.schoolId, login: '11302001' });
    expect((await li.get('/')).text).not.toContain('申請審核結果');
  });

  it('an approved order says its effective date: the first day of a period still to come', async () => {
    const w = await smsWorld(knex);
    const next = await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
      arrivalFee: 150,
      departureFee: 150,
    });
    const { requestId: req } = await createOrder(knex, w.otherChild, next, {
      on: '2026-11-24',
      arrival: true,
      departure: false,
    });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    expect((await postForm(admin, '/reviews', `/reviews/${req}/approval`, {})).status).toBe(303);
    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const home = noticesOf((await chen.get('/')).text);
    expect(home).toContain('陳小美 115學年度下學期（到校SMS）： 訂購申請已核准，2027-02-11 生效');
    expect(home).not.toContain('退費');
  });

  it('知道了 dismisses that notice (audited), and it does not come back; the other guardian still sees theirs', async () => {
    const { w, cancelReq, noticeOf } = await decided();
    // A second guardian of 王小明, with an account of their own.
    const mother = await createParent(knex, [w.student], { name: '王媽媽', login: 'wangmom' });
    // The second guardian was added after the decision: only the first guardian was told of it.
    expect(await knex('decision_notices').where({ request_id: cancelReq }).pluck('guardian_id')).toEqual([
      w.parent.guardianId,
    ]);

    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const noticeId = await noticeOf(cancelReq, w.parent.guardianId);
    const home = (await wang.get('/')).text;
    expect(home).toContain(`action="/sms/decision-notices/${noticeId}/dismissal"`);
    const res = await postForm(wang, '/', `/sms/decision-notices/${noticeId}/dismissal`, {});
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect((await wang.get('/')).text).not.toContain('申請審核結果');
    expect(await knex('decision_notices').where({ id: noticeId }).first('dismissed_by_account_id')).toEqual({
      dismissed_by_account_id: w.parent.accountId,
    });
    expect(
      await knex('decision_notices').where({ id: noticeId }).whereNotNull('dismissed_at').first('id'),
    ).toBeTruthy();
    expect(
      await knex('audit_log')
        .where({ action: 'decision_notice.dismissed', target_id: String(noticeId) })
        .first('actor_account_id'),
    ).toEqual({
      actor_account_id: w.parent.accountId,
    });
    // The decision is still in the lists and the history.
    expect(textOf((await wang.get('/sms/subscriptions')).text)).toContain('註銷已核准，2026-11-25 起停止');

    // A later decision for 王小明 reaches both guardians; one dismissing it leaves the other's.
    clock.set('2026-11-26T01:00:00Z');
    const reorderSub = await createSubscription(
      knex,
      w.student,
      await createPeriod(knex, w.schoolId, { name: '115學年度下學期', startsOn: '2027-02-11', endsOn: '2027-06-30' }),
      {
        status: 'pending',
        effectiveOn: null,
        appliedOn: '2026-11-26',
      },
    );
    const reorder = await createRequest(knex, reorderSub, { kind: 'order', requestedOn: '2026-11-26' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${reorder}/approval`, {})).status).toBe(303);
    expect(
      await knex('decision_notices').where({ request_id: reorder }).orderBy('guardian_id').pluck('guardian_id'),
    ).toEqual([w.parent.guardianId, mother.guardianId]);
    const dad = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const mom = await signedIn(app, { schoolId: w.schoolId, login: 'wangmom' });
    const dadNotice = await noticeOf(reorder, w.parent.guardianId);
    const momNotice = await noticeOf(reorder, mother.guardianId);
    // The mother cannot dismiss the father's notice: 404, nothing changes.
    const foreign = await postForm(mom, '/', `/sms/decision-notices/${dadNotice}/dismissal`, {});
    expect(foreign.status).toBe(404);
    expect(await knex('decision_notices').where({ id: dadNotice }).first('dismissed_at')).toEqual({
      dismissed_at: null,
    });
    expect((await postForm(dad, '/', `/sms/decision-notices/${dadNotice}/dismissal`, {})).status).toBe(303);
    expect((await dad.get('/')).text).not.toContain('申請審核結果');
    expect(noticesOf((await mom.get('/')).text)).toContain('訂購申請已核准，2027-02-11 生效');
    expect(await knex('decision_notices').where({ id: momNotice }).first('dismissed_at')).toEqual({
      dismissed_at: null,
    });
  });

  it('another family cannot dismiss it (404) and sees nothing of it; staff cannot either; a missing CSRF token is refused', async () => {
    const { w, cancelReq, noticeOf } = await decided();
    const noticeId = await noticeOf(cancelReq, w.parent.guardianId);
    const before = await knex('decision_notices').orderBy('id').select();

    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const chenHome = (await chen.get('/')).text;
    expect(chenHome).not.toContain(`/sms/decision-notices/${noticeId}/`);
    expect(chenHome).not.toContain('王小明');
    const foreign = await postForm(chen, '/', `/sms/decision-notices/${noticeId}/dismissal`, {});
    expect(foreign.status).toBe(404);
    expect(foreign.text).toContain('找不到');
    // 全部知道了 with a high upTo dismisses only chen's own notice.
    const all = await postForm(chen, '/', '/sms/decision-notices/dismissal', { upTo: '999999' });
    expect(all.status).toBe(303);
    expect(await knex('decision_notices').where({ id: noticeId }).first('dismissed_at')).toEqual({
      dismissed_at: null,
    });

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/', `/sms/decision-notices/${noticeId}/dismissal`, {})).status).toBe(404);
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    await wang.get('/');
    const noToken = await wang.post(`/sms/decision-notices/${noticeId}/dismissal`).type('form').send({});
    expect(noToken.status).toBe(403);
    const junk = await postForm(wang, '/', `/sms/decision-notices/${noticeId}/dismissal`, { status: 'x' });
    expect(junk.status).toBe(422);
    expect(
      (
        await wang
          .post('/sms/decision-notices/abc/dismissal')
          .type('form')
          .send({ _csrf: await getCsrf(wang, '/') })
      ).status,
    ).toBe(404);
    const after = await knex('decision_notices').where({ id: noticeId }).first('dismissed_at');
    expect(after).toEqual({ dismissed_at: null });
    // Only chen's own notice was dismissed (by 全部知道了); every other notice is as it was.
    const others = (rows: { guardian_id: number }[]) => rows.filter((n) => n.guardian_id !== w.otherParent.guardianId);
    expect(others(await knex('decision_notices').orderBy('id').select())).toEqual(others(before));
    expect(
      await knex('decision_notices')
        .where({ guardian_id: w.otherParent.guardianId })
        .whereNull('dismissed_at')
        .count('* as n')
        .first(),
    ).toEqual({ n: 0 });
    expect(noticesOf((await wang.get('/')).text)).toContain('註銷申請已核准');
  });

  it('全部知道了 dismisses the notices the page showed, not one decided since', async () => {
    const w = await smsWorld(knex);
    const next = await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
    });
    const cancelReq = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const { requestId: nextReq } = await createOrder(knex, w.student, next, { on: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(
      (await postForm(teacher, '/reviews', '/reviews/batch-approval', { ids: [String(cancelReq), String(nextReq)] }))
        .status,
    ).toBe(303);
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const page = (await wang.get('/')).text;
    expect(noticesOf(page)).toContain('註銷申請已核准，2026-11-25 起停止');
    expect(noticesOf(page)).toContain('訂購申請已核准，2027-02-11 生效');
    const upTo = /name="upTo" value="(\d+)"/.exec(page)?.[1];
    expect(upTo).toBeDefined();

    // A decision made after the page was shown.
    const late = await createSubscription(knex, w.otherChild, next, {
      status: 'pending',
      effectiveOn: null,
      appliedOn: '2026-11-24',
    });
    await addChild(knex, w.parent.guardianId, w.otherChild); // the same family now
    const lateReq = await createRequest(knex, late, { kind: 'order', requestedOn: '2026-11-24' });
    expect(
      (
        await postForm(teacher, `/reviews/${lateReq}/rejection/new`, `/reviews/${lateReq}/rejection`, {
          reason: '座號有誤',
        })
      ).status,
    ).toBe(303);

    const token = await getCsrf(wang, '/sms/subscriptions');
    const res = await wang.post('/sms/decision-notices/dismissal').type('form').send({ _csrf: token, upTo });
    expect(res.status).toBe(303);
    const rest = noticesOf((await wang.get('/')).text);
    expect(rest).not.toContain('註銷申請已核准');
    expect(rest).not.toContain('訂購申請已核准');
    expect(rest).toContain('訂購申請已退回 ，原因：座號有誤');
    expect(
      await knex('decision_notices')
        .where({ guardian_id: w.parent.guardianId })
        .whereNull('dismissed_at')
        .pluck('request_id'),
    ).toEqual([lateReq]);
  });

  it("a parent's own 取消 is no decision: no notice", async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await postForm(wang, '/sms/cancellations', `/sms/cancellations/${requestId}/withdrawal`, {})).status).toBe(
      303,
    );
    expect(await knex('decision_notices').count('* as n').first()).toEqual({ n: 0 });
    expect((await wang.get('/')).text).not.toContain('申請審核結果');
  });
});
