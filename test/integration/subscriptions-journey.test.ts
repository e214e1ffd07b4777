import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, postForm, signedIn } from '../support/app.js';
import { createPeriod } from '../support/factories.js';
import { lifecycleSnapshot, smsWorld } from '../support/subscriptions-factories.js';
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

const NOTICE_TITLE = '註銷審核中!';
const NOTICE_TEXT =
  '簡訊訂購申請/註銷申請需經過學校老師審核，審核後隔日生效，請提醒學校老師審核，以確保訂購申請/註銷申請生效';
/** The visible text of a page, tags stripped and whitespace collapsed. */

describe("the parent guide's journey: list → 註銷 → notice → 審核中 → 取消 → 生效 again", () => {
  it('walks through the guide screen by screen', async () => {
    const w = await smsWorld(knex);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });

    const landing = await parent.get('/sms');
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('到離校簡訊訂購服務');
    expect(landing.text).toContain('到離校簡訊註銷服務');
    expect(landing.text).toContain('到離校簡訊註冊服務');
    expect(landing.text).not.toContain('href="/reviews"');

    const list = await parent.get('/sms/subscriptions');
    expect(list.status).toBe(200);
    const t = textOf(list.text);
    for (const word of [
      '行政區：',
      '級別：',
      '學校：',
      '班級：',
      '姓名：',
      '學號：',
      '座號：',
      '狀態：',
      '申請人員：',
      '查詢',
      '新增申請',
    ])
      expect(list.text).toContain(word);
    for (const col of [
      '編號',
      '學校名稱',
      '班級',
      '學號',
      '姓名',
      '座號',
      '申請人員',
      '申請日期',
      '簡訊服務名稱',
      '簡訊服務期間',
      '申請項目',
      '申請狀態',
    ])
      expect(list.text).toContain(`<th scope="col">${col}</th>`);
    expect(t).toContain(
      '市立忠孝國小 四年一班 11301001 王小明 1 系統管理員 2026-09-01 115學年度上學期 2026-08-31~2027-01-20 到校SMS 離校SMS 生效 註銷',
    );
    expect(t).toContain('頁數：1 顯示筆數：50 1-1 總筆數：1');
    expect(list.text).not.toContain('陳小美');
    expect(list.text).not.toContain('李小華');

    const confirmPath = `/sms/subscriptions/${w.subscriptionId}/cancellation/new`;
    expect(list.text).toContain(`href="${confirmPath}"`);
    const confirm = await parent.get(confirmPath);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('確認');
    expect(confirm.text).toContain('返回');

    const cancelled = await postForm(parent, confirmPath, `/sms/subscriptions/${w.subscriptionId}/cancellation`, {});
    expect(cancelled.status).toBe(303);
    const notice = await parent.get(cancelled.headers.location as string);
    expect(notice.status).toBe(200);
    expect(notice.text).toContain(NOTICE_TITLE);
    expect(notice.text).toContain(NOTICE_TEXT);
    expect(notice.text).toContain('若您反悔不想註銷，亦可在此畫面取消註銷。');
    const nt = textOf(notice.text);
    expect(nt).toContain('115學年度上學期 2026-08-31~2027-01-20 V V 審核中 取消');
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('status')).toEqual({
      status: 'cancel_pending',
    });
    const request = await knex('review_requests').where({ subscription_id: w.subscriptionId }).first();
    expect(request).toMatchObject({
      kind: 'cancellation',
      status: 'pending',
      requested_by_name: '王大明',
      requested_on: '2026-11-24',
    });

    const afterCancel = await parent.get('/sms/subscriptions');
    expect(textOf(afterCancel.text)).toContain('註銷審核中');

    const withdrawn = await postForm(parent, '/sms/cancellations', `/sms/cancellations/${request.id}/withdrawal`, {});
    expect(withdrawn.status).toBe(303);
    const back = await parent.get('/sms/subscriptions');
    expect(textOf(back.text)).toContain('生效 註銷');
    const cancellations = await parent.get('/sms/cancellations');
    expect(textOf(cancellations.text)).toContain('V V 已取消');
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('status')).toEqual({ status: 'active' });
    expect(await knex('review_requests').where({ id: request.id }).first('status')).toEqual({ status: 'withdrawn' });
    const events = await knex('subscription_events').where({ subscription_id: w.subscriptionId }).orderBy('id');
    expect(events.map((e) => [e.event, e.from_status, e.to_status, e.actor_role, e.actor_name])).toEqual([
      ['cancel', 'active', 'cancel_pending', 'parent', '王大明'],
      ['withdraw', 'cancel_pending', 'active', 'parent', '王大明'],
    ]);

    const history = await parent.get(`/sms/subscriptions/${w.subscriptionId}/history`);
    expect(history.status).toBe(200);
    expect(textOf(history.text)).toContain('註銷 王大明 家長 生效 註銷審核中');
    expect(textOf(history.text)).toContain('取消 王大明 家長 註銷審核中 生效');
  });

  it('a cancellation asks first: without a POST nothing changes, and GET never changes anything', async () => {
    const w = await smsWorld(knex);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const before = await lifecycleSnapshot(knex);
    await parent.get(`/sms/subscriptions/${w.subscriptionId}/cancellation/new`).expect(200);
    expect((await parent.get(`/sms/subscriptions/${w.subscriptionId}/cancellation`)).status).toBe(404);
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });
});

describe('新增申請', () => {
  it('shows current and next periods with fees, previews the total, and submits a pending order', async () => {
    const w = await smsWorld(knex);
    await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
      arrivalFee: 120,
      departureFee: 130,
    });
    await createPeriod(knex, w.schoolId, { name: '114學年度下學期', startsOn: '2026-02-11', endsOn: '2026-06-30' });
    await createPeriod(knex, w.schoolId, { name: '116學年度上學期', startsOn: '2027-08-30', endsOn: '2028-01-20' });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const form = await parent.get('/sms/subscriptions/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('115學年度上學期（2026-08-31~2027-01-20，到校SMS NT$150、離校SMS NT$150）');
    expect(form.text).toContain('115學年度下學期（2027-02-11~2027-06-30，到校SMS NT$120、離校SMS NT$130）');
    expect(form.text).not.toContain('114學年度下學期');
    expect(form.text).not.toContain('116學年度上學期');
    const next = await knex('service_periods').where({ name: '115學年度下學期' }).first('id');

    const preview = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.otherChild),
      periodId: String(next.id),
      arrival: '1',
      departure: '1',
      intent: 'preview',
    });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('費用合計：NT$250');
    expect(await knex('subscriptions').where({ student_id: w.otherChild }).count('* as n').first()).toEqual({ n: 0 });

    const submit = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.otherChild),
      periodId: String(next.id),
      departure: '1',
      intent: 'submit',
    });
    expect(submit.status).toBe(303);
    const list = await parent.get(submit.headers.location as string);
    expect(list.text).toContain('費用合計 NT$130。核准後於 2027-02-11 生效。');
    // A period still to come: the notice says its first day, never 隔日.
    expect(list.text).toContain('此簡訊服務期間尚未開始，核准後於該期第一天生效');
    expect(list.text).not.toContain(NOTICE_TEXT);
    expect(textOf(list.text)).toContain(
      '陳小美 2 陳媽媽 2026-11-24 115學年度下學期 2027-02-11~2027-06-30 離校SMS 審核中',
    );
    const sub = await knex('subscriptions').where({ student_id: w.otherChild }).first();
    expect(sub).toMatchObject({
      status: 'pending',
      arrival: false,
      departure: true,
      applicant_name: '陳媽媽',
      applied_on: '2026-11-24',
      effective_on: null,
    });
    expect(await knex('review_requests').where({ subscription_id: sub.id }).first('kind', 'status')).toEqual({
      kind: 'order',
      status: 'pending',
    });

    const again = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.otherChild),
      periodId: String(next.id),
      arrival: '1',
      intent: 'submit',
    });
    expect(again.status).toBe(409);
    expect(again.text).toContain('已有審核中或生效的訂購');
    expect(await knex('subscriptions').where({ student_id: w.otherChild }).count('* as n').first()).toEqual({ n: 1 });

    // 取消 of the pending order → withdrawn, and the student may order again.
    const request = await knex('review_requests').where({ subscription_id: sub.id }).first('id');
    const withdrawn = await postForm(parent, '/sms/subscriptions', `/sms/requests/${request.id}/withdrawal`, {});
    expect(withdrawn.status).toBe(303);
    expect(await knex('subscriptions').where({ id: sub.id }).first('status')).toEqual({ status: 'withdrawn' });
  });

  it('re-renders 422 with messages and what was typed; extra fields (status, effective_on, school_id) are refused', async () => {
    const w = await smsWorld(knex);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const noItems = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.otherChild),
      periodId: String(w.periodId),
      intent: 'submit',
    });
    expect(noItems.status).toBe(422);
    expect(noItems.text).toContain('請至少選擇一個申請項目');
    expect(noItems.text).toMatch(
      new RegExp(`id="period-${w.periodId}" name="periodId" value="${w.periodId}"[^>]* checked`),
    );

    const extras: Record<string, string>[] = [
      { status: 'active' },
      { effective_on: '2026-11-24' },
      { school_id: '999' },
      { applicant_name: 'x' },
    ];
    for (const extra of extras) {
      const res = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
        studentId: String(w.otherChild),
        periodId: String(w.periodId),
        arrival: '1',
        intent: 'submit',
        ...extra,
      });
      expect(res.status).toBe(422);
      expect(res.text).toContain('表單含有不允許的欄位');
    }
    const foreignPeriod = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.student), // not this parent's child
      periodId: String(w.periodId),
      arrival: '1',
      intent: 'submit',
    });
    expect(foreignPeriod.status).toBe(422);
    expect(await knex('subscriptions').where({ student_id: w.otherChild }).count('* as n').first()).toEqual({ n: 0 });
    expect(await knex('subscriptions').count('* as n').first()).toEqual({ n: 2 });

    const extraOnCancel = await postForm(
      parent,
      '/sms/subscriptions',
      `/sms/subscriptions/${w.subscriptionId}/cancellation`,
      { status: 'cancelled' },
    );
    expect(extraOnCancel.status).toBe(422);
    expect(await knex('subscriptions').where({ id: w.subscriptionId }).first('status')).toEqual({ status: 'active' });
  });

  it('staff have no 新增申請 and no 註銷; they see their scope only', async () => {
    const w = await smsWorld(knex);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const list = await teacher.get('/sms/subscriptions');
    expect(list.text).toContain('王小明');
    expect(list.text).not.toContain('李小華');
    expect(list.text).not.toContain('新增申請</a>');
    expect((await teacher.get('/sms/subscriptions/new')).status).toBe(404);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const all = await admin.get('/sms/subscriptions');
    expect(all.text).toContain('王小明');
    expect(all.text).toContain('李小華');
    expect(textOf(all.text)).toContain('總筆數：2');
  });
});
