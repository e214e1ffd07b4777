import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import {
  createClass,
  createParent,
  createPeriod,
  createSchool,
  createStaff,
  createStudent,
  createSubscription,
} from '../support/factories.js';
import { createRequest, lifecycleSnapshot, smsWorld } from '../support/subscriptions-factories.js';
import { textOf } from '../support/pages.js';

const { app } = useTestApp();
const knex = testDb().knex;

describe('another class, another family, another school: 404 for every action, nothing changes', () => {
  it('a teacher of another class and an admin of another school cannot see or decide 401 requests', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const otherSchool = await createSchool(knex, { name: '市立景美國中', district: '文山區', level: 'junior_high' });
    await createStaff(knex, otherSchool, { role: 'school_admin', login: 'admin2', name: '景美國中' });
    const before = await lifecycleSnapshot(knex);
    for (const who of [
      { role: 'teacher' as const, schoolId: w.schoolId, login: 't402' },
      { role: 'school_admin' as const, schoolId: otherSchool, login: 'admin2' },
    ]) {
      const agent = await signedIn(app, who);
      const queue = await agent.get('/reviews');
      expect(queue.status).toBe(200);
      expect(queue.text).not.toContain('王小明');
      expect((await agent.get(`/reviews/${requestId}/rejection/new`)).status).toBe(404);
      expect((await agent.get(`/sms/subscriptions/${w.subscriptionId}/history`)).status).toBe(404);
      expect((await postForm(agent, '/reviews', `/reviews/${requestId}/approval`, {})).status).toBe(404);
      expect(
        (await postForm(agent, '/reviews', `/reviews/${requestId}/rejection`, { reason: '不是我的' })).status,
      ).toBe(404);
      const batch = await postForm(agent, '/reviews', '/reviews/batch-approval', { ids: String(requestId) });
      expect(batch.status).toBe(303);
      expect(
        (await postForm(agent, '/reviews', `/sms/refunds/${requestId}/payment`, { paidOn: '2026-11-24' })).status,
      ).toBe(404);
      expect(textOf((await agent.get('/sms/subscriptions')).text)).not.toContain('王小明');
      expect(textOf((await agent.get('/sms/cancellations')).text)).not.toContain('王小明');
    }
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });

  it('a parent of another child gets 404 for every action on 王小明', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const before = await lifecycleSnapshot(knex);
    const other = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    expect((await other.get(`/sms/subscriptions/${w.subscriptionId}/cancellation/new`)).status).toBe(404);
    expect((await other.get(`/sms/subscriptions/${w.subscriptionId}/history`)).status).toBe(404);
    expect(
      (await postForm(other, '/sms/subscriptions', `/sms/subscriptions/${w.subscriptionId}/cancellation`, {})).status,
    ).toBe(404);
    expect((await postForm(other, '/sms/cancellations', `/sms/cancellations/${requestId}/withdrawal`, {})).status).toBe(
      404,
    );
    expect((await postForm(other, '/sms/cancellations', `/sms/requests/${requestId}/withdrawal`, {})).status).toBe(404);
    expect(
      (await postForm(other, '/sms/subscriptions', `/sms/subscriptions/${w.sub402}/cancellation`, {})).status,
    ).toBe(404);
    // Staff pages do not exist for a parent.
    expect((await other.get('/reviews')).status).toBe(404);
    expect((await postForm(other, '/sms/subscriptions', `/reviews/${requestId}/approval`, {})).status).toBe(404);
    expect((await other.get('/sms/periods')).status).toBe(404);
    expect(
      (await postForm(other, '/sms/subscriptions', `/sms/refunds/${requestId}/payment`, { paidOn: '2026-11-24' }))
        .status,
    ).toBe(404);
    const list = await other.get('/sms/cancellations');
    expect(list.text).not.toContain('王小明');
    // Ids that are not ids do not exist either.
    for (const bad of ['abc', '0', '-1', '99999999999', '1e3'])
      expect((await other.get(`/sms/subscriptions/${bad}/history`)).status).toBe(404);
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });

  it('a teacher cannot cancel or withdraw for a parent (those are the parent’s actions)', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const before = await lifecycleSnapshot(knex);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/sms/cancellations/${requestId}/withdrawal`, {})).status).toBe(404);
    expect(
      (await postForm(teacher, '/reviews', `/sms/subscriptions/${w.subscriptionId}/cancellation`, {})).status,
    ).toBe(404);
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });

  it('GET on a transition URL changes nothing', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const before = await lifecycleSnapshot(knex);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    for (const path of [
      `/reviews/${requestId}/approval`,
      `/reviews/${requestId}/rejection`,
      '/reviews/batch-approval',
      `/sms/refunds/${requestId}/payment`,
    ])
      expect((await teacher.get(path)).status).toBe(404);
    expect(await lifecycleSnapshot(knex)).toEqual(before);
  });
});

describe('filters and paging: bad input is a message, never a 500', () => {
  it.each([
    ['page=-1'],
    ['page=abc'],
    ['page=0'],
    ['page=99999999999999999999'],
    ['page=1&page=2'],
    ['status=__proto__'],
    ['status=constructor'],
    ['status[]=active'],
    ['status[a]=1'],
    ['classId=abc'],
    ['classId=1&classId=2'],
    ['classId=99999999999'],
    ['name=%00'],
    ['name=' + 'x'.repeat(500)],
    ['seat=abc'],
    ['seat=100'],
    ['studentNumber=%27%3B--'],
    ['applicant=root'],
    ['unknown=1'],
    ['__proto__[x]=1'],
    ['periodId=-5'],
    ['kind=other'],
  ])('%s', async (qs) => {
    const w = await smsWorld(knex);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    for (const path of ['/sms/subscriptions', '/sms/cancellations', '/reviews']) {
      const res = await admin.get(`${path}?${qs}`);
      expect([200, 400]).toContain(res.status);
      if (res.status === 400) expect(res.text).toContain('查詢條件有誤');
    }
  });

  it('accepts good filters, full-width input and shows 50 a page with links for the others', async () => {
    const w = await smsWorld(knex);
    const periodB = await createPeriod(knex, w.schoolId, {
      name: '114學年度下學期',
      startsOn: '2026-02-11',
      endsOn: '2026-06-30',
    });
    const classId = await createClass(knex, w.schoolId, { code: '501', name: '五年一班', grade: 5 });
    for (let i = 1; i <= 55; i++) {
      const st = await createStudent(knex, classId, { name: `學生${i}`, studentNumber: String(11305000 + i), seat: i });
      await createSubscription(knex, st, periodB, {});
    }
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const first = textOf((await admin.get(`/sms/subscriptions?classId=${classId}`)).text);
    expect(first).toContain('頁數：1 顯示筆數：50 1-50 總筆數：55');
    const page1 = await admin.get(`/sms/subscriptions?classId=${classId}`);
    expect(page1.text).toContain(`href="/sms/subscriptions?classId=${classId}&amp;page=2"`);
    const second = textOf((await admin.get(`/sms/subscriptions?classId=${classId}&page=2`)).text);
    expect(second).toContain('頁數：2 顯示筆數：50 51-55 總筆數：55');
    const beyond = textOf((await admin.get(`/sms/subscriptions?classId=${classId}&page=9`)).text);
    expect(beyond).toContain('總筆數：55');
    expect(beyond).toContain('查無資料');
    // 114學年度下學期 ended: these show 已到期
    expect(textOf((await admin.get('/sms/subscriptions?status=expired')).text)).toContain('總筆數：55');
    expect(textOf((await admin.get('/sms/subscriptions?status=active')).text)).toContain('總筆數：2');
    // full-width 學號 and 座號 are normalised (NFKC)
    const byNumber = textOf(
      (await admin.get('/sms/subscriptions?studentNumber=' + encodeURIComponent('１１３０１００１'))).text,
    );
    expect(byNumber).toContain('王小明');
    expect(byNumber).toContain('總筆數：1');
    const bySeat = textOf(
      (await admin.get(`/sms/subscriptions?classId=${classId}&seat=${encodeURIComponent('１２')}`)).text,
    );
    expect(bySeat).toContain('學生12');
    expect(bySeat).toContain('總筆數：1');
    const byName = textOf((await admin.get('/sms/subscriptions?name=' + encodeURIComponent('小明'))).text);
    expect(byName).toContain('總筆數：1');
    const byApplicant = textOf((await admin.get('/sms/subscriptions?applicant=parent')).text);
    expect(byApplicant).toContain('總筆數：0');
    const wildcard = textOf((await admin.get('/sms/subscriptions?name=%25')).text);
    expect(wildcard).toContain('總筆數：0');
  });
});

describe('junk in form bodies: a message, never a 500, nothing changes', () => {
  it('refuses arrays, NUL, huge numbers and unknown fields on every form', async () => {
    const w = await smsWorld(knex);
    const requestId = await createRequest(knex, w.subscriptionId);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301002' });
    const before = await lifecycleSnapshot(knex);
    const periodsBefore = await knex('service_periods').orderBy('id').select();
    const junk: Record<string, string | string[]>[] = [
      { reason: ['a', 'b'] },
      { reason: 'a\u0000b' },
      { reason: 'x'.repeat(5000) },
      { ids: ['1', '99999999999'] },
      { ids: 'abc' },
      { paidOn: '2026-02-30' },
      { paidOn: ['2026-11-24', '2026-11-24'] },
      { status: 'approved' },
    ];
    for (const body of junk) {
      for (const path of [
        `/reviews/${requestId}/rejection`,
        '/reviews/batch-approval',
        `/sms/refunds/${requestId}/payment`,
        `/reviews/${requestId}/approval`,
      ]) {
        const res = await postForm(admin, '/reviews', path, body);
        expect(res.status, `${path} ${JSON.stringify(body).slice(0, 60)}`).toBeLessThan(500);
      }
    }
    for (const body of [
      { name: ['a', 'b'], startsOn: '2027-02-11', endsOn: '2027-06-30', arrivalFee: '1', departureFee: '1' },
      { name: 'a\u0000', startsOn: '2027-02-11', endsOn: '2027-06-30', arrivalFee: '1', departureFee: '1' },
      { name: 'ok', startsOn: '2027-02-11', endsOn: '2027-06-30', arrivalFee: '99999999999999', departureFee: '1' },
      { name: 'ok', startsOn: '2027-13-01', endsOn: '2027-06-30', arrivalFee: '1', departureFee: '-1' },
      { name: 'ok', startsOn: '２０２７-０２-１１', endsOn: '2027-06-30', arrivalFee: '１', departureFee: '1' },
    ]) {
      expect((await postForm(admin, '/sms/periods', '/sms/periods', body)).status).toBe(422);
      expect((await postForm(admin, '/sms/periods', `/sms/periods/${w.periodId}`, body)).status).toBe(422);
    }
    for (const body of [
      {
        studentId: [String(w.otherChild), String(w.otherChild)],
        periodId: String(w.periodId),
        arrival: '1',
        intent: 'submit',
      },
      { studentId: '99999999999', periodId: String(w.periodId), arrival: '1', intent: 'submit' },
      { studentId: String(w.otherChild), periodId: 'abc', arrival: 'yes', intent: 'submit' },
      { studentId: String(w.otherChild), periodId: String(w.periodId), arrival: '1', intent: 'hack' },
      { studentId: '\u0000', periodId: String(w.periodId), arrival: '1', intent: 'submit' },
    ]) {
      expect((await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', body)).status).toBe(422);
    }
    expect(await lifecycleSnapshot(knex)).toEqual(before);
    expect(await knex('service_periods').orderBy('id').select()).toEqual(periodsBefore);
    for (const path of [
      `/sms/cancellations/${requestId}/withdrawal`,
      `/sms/requests/${requestId}/withdrawal`,
      `/sms/subscriptions/${w.subscriptionId}/cancellation`,
    ])
      expect((await parent.get(path)).status).toBe(404);
  });
});

describe('service periods (簡訊服務期間)', () => {
  it('the admin creates and edits periods; a used period cannot be shortened or repriced; teachers only read', async () => {
    const w = await smsWorld(knex);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get('/sms/periods');
    expect(page.status).toBe(200);
    expect(textOf(page.text)).toContain('115學年度上學期 2026-08-31~2027-01-20 NT$150 NT$150 2');

    const bad = await postForm(admin, '/sms/periods', '/sms/periods', {
      name: '115學年度下學期',
      startsOn: '2027-06-30',
      endsOn: '2027-02-11',
      arrivalFee: '150',
      departureFee: 'abc',
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('結束日期不可早於開始日期');
    expect(bad.text).toContain('value="115學年度下學期"');
    const extra = await postForm(admin, '/sms/periods', '/sms/periods', {
      name: 'x',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
      arrivalFee: '1',
      departureFee: '1',
      school_id: '99',
    });
    expect(extra.status).toBe(422);
    const dup = await postForm(admin, '/sms/periods', '/sms/periods', {
      name: '115學年度上學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
      arrivalFee: '1',
      departureFee: '1',
    });
    expect(dup.status).toBe(422);
    expect(dup.text).toContain('已有名為「');

    const ok = await postForm(admin, '/sms/periods', '/sms/periods', {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
      arrivalFee: '120',
      departureFee: '130',
    });
    expect(ok.status).toBe(303);
    const created = await knex('service_periods').where({ name: '115學年度下學期' }).first();
    expect(created).toMatchObject({
      school_id: w.schoolId,
      starts_on: '2027-02-11',
      ends_on: '2027-06-30',
      arrival_fee: 120,
      departure_fee: 130,
    });
    expect(await knex('audit_log').where({ action: 'period.created' }).count('* as n').first()).toEqual({ n: 1 });

    // unused: anything may change
    const editUnused = await postForm(admin, `/sms/periods/${created.id}/edit`, `/sms/periods/${created.id}`, {
      name: '115學年度下學期',
      startsOn: '2027-02-15',
      endsOn: '2027-06-20',
      arrivalFee: '100',
      departureFee: '100',
    });
    expect(editUnused.status).toBe(303);

    // used: shorten or reprice refused, extend allowed
    const formPath = `/sms/periods/${w.periodId}/edit`;
    const shorten = await postForm(admin, formPath, `/sms/periods/${w.periodId}`, {
      name: '115學年度上學期',
      startsOn: '2026-09-01',
      endsOn: '2027-01-10',
      arrivalFee: '150',
      departureFee: '200',
    });
    expect(shorten.status).toBe(422);
    expect(shorten.text).toContain('開始日期只能提前');
    expect(shorten.text).toContain('結束日期只能延後');
    expect(shorten.text).toContain('費用不可變更');
    expect(
      await knex('service_periods').where({ id: w.periodId }).first('starts_on', 'ends_on', 'departure_fee'),
    ).toEqual({ starts_on: '2026-08-31', ends_on: '2027-01-20', departure_fee: 150 });
    const extend = await postForm(admin, formPath, `/sms/periods/${w.periodId}`, {
      name: '115學年度上學期',
      startsOn: '2026-08-30',
      endsOn: '2027-01-22',
      arrivalFee: '150',
      departureFee: '150',
    });
    expect(extend.status).toBe(303);
    expect(await knex('service_periods').where({ id: w.periodId }).first('ends_on')).toEqual({ ends_on: '2027-01-22' });

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const read = await teacher.get('/sms/periods');
    expect(read.status).toBe(200);
    expect(read.text).not.toContain('新增簡訊服務期間');
    expect((await teacher.get(formPath)).status).toBe(404);
    expect(
      (
        await postForm(teacher, '/sms/periods', `/sms/periods/${w.periodId}`, {
          name: 'x',
          startsOn: '2026-08-30',
          endsOn: '2027-01-22',
          arrivalFee: '1',
          departureFee: '1',
        })
      ).status,
    ).toBe(404);

    // another school's admin: the period does not exist
    const s2 = await createSchool(knex, { name: '市立景美國中', district: '文山區', level: 'junior_high' });
    await createStaff(knex, s2, { role: 'school_admin', login: 'admin2' });
    const admin2 = await signedIn(app, { role: 'school_admin', schoolId: s2, login: 'admin2' });
    expect((await admin2.get(formPath)).status).toBe(404);
    expect(
      (
        await postForm(admin2, '/sms/periods', `/sms/periods/${w.periodId}`, {
          name: 'x',
          startsOn: '2026-08-30',
          endsOn: '2027-01-22',
          arrivalFee: '150',
          departureFee: '150',
        })
      ).status,
    ).toBe(404);
    expect(await knex('service_periods').where({ id: w.periodId }).first('name')).toEqual({ name: '115學年度上學期' });
  });
});

describe('a parent with children at two schools', () => {
  it('sees both children and orders for each at its own school', async () => {
    const w = await smsWorld(knex);
    const s2 = await createSchool(knex, { name: '市立景美國中', district: '文山區', level: 'junior_high' });
    const c2 = await createClass(knex, s2, { code: '701', name: '七年一班', grade: 7 });
    const kid2 = await createStudent(knex, c2, { name: '王小弟', studentNumber: '11207001', seat: 3 });
    await createPeriod(knex, s2, {
      name: '115學年度上學期',
      startsOn: '2026-08-30',
      endsOn: '2027-01-19',
      arrivalFee: 100,
      departureFee: 100,
    });
    const p = await createParent(knex, [w.otherChild, kid2], { name: '陳媽媽2', login: 'x11301002' });
    const agent = await signedIn(app, { schoolId: w.schoolId, login: p.login });
    const form = await agent.get('/sms/subscriptions/new');
    expect(form.text).toContain('市立景美國中 115學年度上學期');
    expect(form.text).toContain('王小弟');
  });
});
