import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp, postForm, signedIn } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { createCard } from '../support/attendance-factories.js';

const { app } = buildTestApp(); // Tuesday 2026-11-24 09:00 Taipei
const knex = testDb().knex;
afterAll(async () => {
  await app.shutdown();
  await closeTestDb();
});
beforeEach(() => resetDb());

const cardsOf = (studentId: number) =>
  knex('cards').where({ student_id: studentId }).orderBy('id').select('card_uid', 'valid_from', 'valid_until');

describe('卡片管理 (school admin)', () => {
  it('looks a student up by 學號, retires the lost card and issues a new one', async () => {
    const w = await createSchoolWorld(knex);
    const cardId = await createCard(knex, w.student, { uid: 'AA01', validFrom: '2026-08-01' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await admin.get('/swipes/cards?studentNumber=11301001');
    expect(page.status).toBe(200);
    expect(page.text).toContain('王小明');
    expect(page.text).toContain('AA01');
    const retire = await postForm(admin, '/swipes/cards?studentNumber=11301001', '/swipes/cards/retire', {
      studentNumber: '11301001',
      cardId: String(cardId),
      fromDate: '2026-11-24',
    });
    expect(retire.status).toBe(303);
    const issue = await postForm(admin, '/swipes/cards?studentNumber=11301001', '/swipes/cards', {
      studentNumber: '11301001',
      cardUid: 'bb02',
      validFrom: '2026-11-24',
    });
    expect(issue.status).toBe(303);
    expect(await cardsOf(w.student)).toEqual([
      { card_uid: 'AA01', valid_from: '2026-08-01', valid_until: '2026-11-23' },
      { card_uid: 'BB02', valid_from: '2026-11-24', valid_until: null },
    ]);
  });

  it('refuses bad input with 422 and another school or role with 404, changing nothing', async () => {
    const w = await createSchoolWorld(knex);
    const far = await createSchoolWorld(knex, { schoolName: '市立仁愛國小' });
    await knex('students').where({ id: far.student }).update({ student_number: '99990001' });
    const farCard = await createCard(knex, far.student, { uid: 'FF01' });
    await createCard(knex, w.student, { uid: 'AA01' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const bad = await postForm(admin, '/swipes/cards?studentNumber=11301001', '/swipes/cards', {
      studentNumber: '11301001',
      cardUid: 'bad uid',
      validFrom: '2026-11-24',
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('卡號只能包含');
    const taken = await postForm(admin, '/swipes/cards?studentNumber=11301001', '/swipes/cards', {
      studentNumber: '11301001',
      cardUid: 'FF01',
      validFrom: '2026-11-24',
    });
    expect(taken.status).toBe(422);
    expect(taken.text).toContain('此卡號目前仍登錄給其他學生');
    expect((await admin.get('/swipes/cards?studentNumber=99990001')).status).toBe(404);
    const foreign = await postForm(admin, '/swipes/cards', '/swipes/cards/retire', {
      studentNumber: '99990001',
      cardId: String(farCard),
      fromDate: '2026-11-24',
    });
    expect(foreign.status).toBe(404);
    const mismatched = await postForm(admin, '/swipes/cards', '/swipes/cards/retire', {
      studentNumber: '11301001',
      cardId: String(farCard),
      fromDate: '2026-11-24',
    });
    expect(mismatched.status).toBe(404);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await teacher.get('/swipes/cards')).status).toBe(404);
    expect(await cardsOf(w.student)).toEqual([{ card_uid: 'AA01', valid_from: '2026-08-01', valid_until: null }]);
    expect(await cardsOf(far.student)).toEqual([{ card_uid: 'FF01', valid_from: '2026-08-01', valid_until: null }]);
  });
});
