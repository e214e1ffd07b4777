/**
 * Ordering for a student without a verified phone: 新增申請 warns before the parent submits, with a
 * link to 到離校簡訊註冊服務, and the teacher's 審核 list marks such orders 尚無已驗證手機.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createPhone } from '../support/sms-factories.js';
import { createOrder, createRequest, smsWorld } from '../support/subscriptions-factories.js';
import { textOf } from '../support/pages.js';

const { app } = useTestApp();
const knex = testDb().knex;
const WARNING = '尚無已驗證的手機號碼 ：訂購後簡訊無法送達。請先到 到離校簡訊註冊服務 登記並驗證接收簡訊的手機號碼。';

describe('新增申請 for a student without a verified phone', () => {
  it('warns with a link to 到離校簡訊註冊服務, on the form and on the fee preview; not for a child with a verified phone', async () => {
    const w = await smsWorld(knex);
    await createPhone(knex, w.student, { number: '0912345678', verified: true });
    await createPhone(knex, w.otherChild, { number: '0922333444', verified: false }); // registered, never verified
    const chen = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const form = await chen.get('/sms/subscriptions/new');
    expect(form.status).toBe(200);
    expect(textOf(form.text)).toContain(`陳小美 ${WARNING}`);
    expect(form.text).toContain('<a href="/sms/phones">到離校簡訊註冊服務</a>');
    const preview = await postForm(chen, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(w.otherChild),
      periodId: String(w.periodId),
      arrival: '1',
      intent: 'preview',
    });
    expect(preview.status).toBe(200);
    expect(textOf(preview.text)).toContain(`陳小美 ${WARNING}`);
    // A warning, not a refusal: the parent may still order (and register the phone afterwards).
    expect(await knex('subscriptions').where({ student_id: w.otherChild }).count('* as n').first()).toEqual({ n: 0 });

    // Remove 王小明's subscription so his parent can open the form for him: no warning, he has a verified phone.
    await knex('subscriptions').where({ id: w.subscriptionId }).update({ status: 'withdrawn' });
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const wangForm = await wang.get('/sms/subscriptions/new');
    expect(wangForm.status).toBe(200);
    expect(wangForm.text).not.toContain('尚無已驗證的手機號碼');
  });
});

describe('審核 marks an order for a student without a verified phone', () => {
  it('marks 尚無已驗證手機 on such an order only, and no longer once a phone is verified', async () => {
    const w = await smsWorld(knex);
    await createPhone(knex, w.student, { number: '0912345678', verified: true });
    await createOrder(knex, w.otherChild, w.periodId, { on: '2026-11-24', by: '陳媽媽' });
    await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const page = textOf((await teacher.get('/reviews')).text);
    expect(page).toContain('訂購申請 四年一班 11301002 陳小美 尚無已驗證手機 2 陳媽媽');
    expect(page).toContain('註銷申請 四年一班 11301001 王小明 1 王大明');
    expect(page.match(/尚無已驗證手機/g)).toHaveLength(1);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    expect(textOf((await admin.get('/reviews')).text)).toContain('陳小美 尚無已驗證手機');

    await createPhone(knex, w.otherChild, { number: '0922333444', verified: true });
    expect((await teacher.get('/reviews')).text).not.toContain('尚無已驗證手機');
  });
});
