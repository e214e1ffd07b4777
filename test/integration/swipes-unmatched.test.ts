import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createSubscription } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';
import { createReaderToken, createSwipe } from '../support/attendance-factories.js';

const NOW = '2026-11-24T01:00:00Z'; // Tuesday 09:00 Taipei
const { app } = useTestApp({ now: NOW });
const knex = testDb().knex;

async function world() {
  const w = await createSchoolWorld(knex);
  const { readerId } = await createReaderToken(knex, w.schoolId, '正門');
  const unmatched = await createSwipe(knex, {
    readerId,
    schoolId: w.schoolId,
    studentId: null,
    at: '2026-11-24T07:42',
    cardUid: 'LOST01',
  });
  const far = await createSchoolWorld(knex, { schoolName: '市立仁愛國小' });
  const farReader = await createReaderToken(knex, far.schoolId, '正門');
  const foreign = await createSwipe(knex, {
    readerId: farReader.readerId,
    schoolId: far.schoolId,
    studentId: null,
    at: '2026-11-24T07:43',
    cardUid: 'FOREIGN9',
  });
  return { ...w, readerId, unmatched, foreign, far };
}

const swipeRow = (id: number) =>
  knex('swipes').where({ id }).first('student_id', 'resolved_at', 'resolved_by_account_id');

describe('未對應刷卡', () => {
  it("lists the school's unmatched swipes for the school admin only", async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await admin.get('/swipes/unmatched');
    expect(res.status).toBe(200);
    expect(res.text).toContain('LOST01');
    expect(res.text).toContain('2026-11-24 07:42');
    expect(res.text).toContain('正門');
    expect(res.text).not.toContain('FOREIGN9');
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await teacher.get('/swipes/unmatched')).status).toBe(404);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    expect((await parent.get('/swipes/unmatched')).status).toBe(404);
  });

  it('assigns a swipe to a student by 學號, who then has the arrival, and sends no SMS', async () => {
    const w = await world();
    const period = await createPeriod(knex, w.schoolId);
    await createSubscription(knex, w.student, period);
    await createPhone(knex, w.student);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await postForm(admin, '/swipes/unmatched', `/swipes/${w.unmatched}/resolution`, {
      action: 'assign',
      studentNumber: '11301001',
    });
    expect(res.status).toBe(303);
    const row = await swipeRow(w.unmatched);
    expect(row.student_id).toBe(w.student);
    expect(row.resolved_by_account_id).toBe(w.admin);
    expect(new Date(row.resolved_at).toISOString()).toBe(new Date(NOW).toISOString());
    const list = await admin.get('/swipes/unmatched');
    expect(list.text).toContain('已將刷卡紀錄指定給學生');
    expect(list.text).not.toContain('LOST01');
    expect(await knex('sms_outbox').count({ n: '*' })).toEqual([{ n: 0 }]);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    expect((await parent.get('/')).text).toMatch(/<th scope="row">星期二 11-24<\/th>\s*<td>07:42<\/td>/);
    // Already resolved: 404, nothing changes.
    const again = await postForm(admin, '/swipes/unmatched', `/swipes/${w.unmatched}/resolution`, { action: 'ignore' });
    expect(again.status).toBe(404);
    expect((await swipeRow(w.unmatched)).student_id).toBe(w.student);
  });

  it('marks a swipe ignored', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await postForm(admin, '/swipes/unmatched', `/swipes/${w.unmatched}/resolution`, { action: 'ignore' });
    expect(res.status).toBe(303);
    const row = await swipeRow(w.unmatched);
    expect(row.student_id).toBeNull();
    expect(row.resolved_at).not.toBeNull();
    expect((await admin.get('/swipes/unmatched')).text).not.toContain('LOST01');
  });

  it('refuses an unknown 學號, a 學號 of another school and bad input with 422, changing nothing', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const farNumber = (await knex('students').where({ id: w.far.student }).first('student_number')).student_number;
    await knex('students').where({ id: w.far.student }).update({ student_number: '99990001' });
    void farNumber;
    for (const [fields, message] of [
      [{ action: 'assign', studentNumber: '00000000' }, '本校沒有這個學號的學生'],
      [{ action: 'assign', studentNumber: '99990001' }, '本校沒有這個學號的學生'],
      [{ action: 'assign', studentNumber: '' }, '此欄位必填'],
      [{ action: 'assign', studentNumber: '1130<1001' }, '學號格式有誤'],
      [{ action: 'delete' }, '請選擇處理方式'],
      [{ action: 'assign', studentNumber: '11301001', student_id: '1' }, '表單含有不允許的欄位'],
    ] as const) {
      const res = await postForm(admin, '/swipes/unmatched', `/swipes/${w.unmatched}/resolution`, fields);
      expect(res.status, JSON.stringify(fields)).toBe(422);
      expect(res.text).toContain(message);
    }
    expect(await swipeRow(w.unmatched)).toEqual({ student_id: null, resolved_at: null, resolved_by_account_id: null });
  });

  it("answers 404 for another school's swipe and for junk ids, changing nothing", async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await postForm(admin, '/swipes/unmatched', `/swipes/${w.foreign}/resolution`, { action: 'ignore' });
    expect(res.status).toBe(404);
    expect(await swipeRow(w.foreign)).toEqual({ student_id: null, resolved_at: null, resolved_by_account_id: null });
    for (const bad of ['abc', '0', '99999999999', '-1']) {
      expect(
        (await postForm(admin, '/swipes/unmatched', `/swipes/${bad}/resolution`, { action: 'ignore' })).status,
      ).toBe(404);
    }
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(
      (await postForm(teacher, '/attendance', `/swipes/${w.unmatched}/resolution`, { action: 'ignore' })).status,
    ).toBe(404);
    expect(await swipeRow(w.unmatched)).toEqual({ student_id: null, resolved_at: null, resolved_by_account_id: null });
  });
});
