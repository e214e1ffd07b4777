import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createSchool, createSchoolWorld, createStaff, createStudent } from '../support/factories.js';
import { createManualEntry, createReaderToken, createSwipe } from '../support/attendance-factories.js';
import { dayRows, detailOf, gridRows, reportRows } from '../support/pages.js';

// Tuesday 2026-11-24, 17:00 Taipei.
const NOW = '2026-11-24T09:00:00Z';
const { app } = useTestApp({ now: NOW });
const knex = testDb().knex;
const DAY = '2026-11-24';

const state = async () => ({
  entries: await knex('manual_entries')
    .orderBy('id')
    .select('id', 'entry_time', 'direction', 'reason', 'updated_by_account_id'),
  days: await knex('attendance_days')
    .orderBy(['student_id', 'day'])
    .select('student_id', 'day', 'arrival_time', 'arrival_manual', 'departure_time'),
  audit: await knex('audit_log').where('action', 'like', 'attendance.manual_entry%').orderBy('id').pluck('action'),
});

async function world() {
  const w = await createSchoolWorld(knex);
  // A mistyped 補登: 07:05 for 08:05.
  const entry = await createManualEntry(knex, {
    studentId: w.student,
    date: DAY,
    time: '07:05',
    direction: 'arrival',
    by: w.teacher401,
  });
  return { ...w, entry };
}

const teacher = (schoolId: number, login = 't401') => signedIn(app, { role: 'teacher', schoolId, login });

describe('correcting and deleting a 補登', () => {
  it('the teacher corrects the time with a reason: stored, audited with old and new values, and the grid, 首頁 and day view follow', async () => {
    const w = await world();
    const agent = await teacher(w.schoolId);
    const dayPage = await agent.get(`/attendance?classId=${w.class401}&date=${DAY}`);
    expect(dayPage.text).toContain(`href="/attendance/manual-entries/${w.entry}">更正或刪除`);
    const form = await agent.get(`/attendance/manual-entries/${w.entry}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('<h1 id="page-heading">更正補登</h1>');
    expect(form.text).toContain('name="time" value="07:05"');

    const res = await postForm(
      agent,
      `/attendance/manual-entries/${w.entry}`,
      `/attendance/manual-entries/${w.entry}/correction`,
      {
        time: '08:05',
        direction: 'arrival',
        reason: '輸入錯誤，應為 08:05',
      },
    );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/attendance?classId=${w.class401}&date=${DAY}`);

    const row = await knex('manual_entries').where({ id: w.entry }).first();
    expect(row).toMatchObject({
      entry_time: '08:05',
      direction: 'arrival',
      reason: '忘記帶卡',
      updated_by_account_id: w.teacher401,
    });
    expect(row.updated_at).not.toBeNull();
    expect(await knex('attendance_days').where({ student_id: w.student, day: DAY }).first()).toMatchObject({
      arrival_time: '08:05',
      arrival_manual: true,
    });
    const log = await knex('audit_log').where({ action: 'attendance.manual_entry_corrected' }).first();
    expect(log).toMatchObject({
      actor_account_id: w.teacher401,
      school_id: w.schoolId,
      target_type: 'manual_entry',
      target_id: String(w.entry),
    });
    expect(log.details).toEqual({
      studentId: w.student,
      date: DAY,
      old: { time: '07:05', direction: 'arrival' },
      new: { time: '08:05', direction: 'arrival' },
      reason: '輸入錯誤，應為 08:05',
    });

    const after = await agent.get(res.headers.location!);
    expect(after.text).toContain('已更正 王小明 的補登：到校 2026-11-24 08:05');
    expect(dayRows(after.text)[0]).toEqual(['王小明', '補登 08:05', '未刷卡']);
    expect(after.text).toContain('08:05（已更正）');
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const home = (await parent.get('/')).text;
    expect(gridRows(home).at(-1)).toEqual(['星期二 11-24', '補登 08:05', '未刷卡']);
    expect(home).not.toContain('07:05');
    expect(await knex('sms_outbox').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('a correction to 離校 moves the entry to the departure column', async () => {
    const w = await world();
    const { readerId } = await createReaderToken(knex, w.schoolId);
    await createSwipe(knex, { readerId, schoolId: w.schoolId, studentId: w.student, at: `${DAY}T07:40` });
    const agent = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await postForm(
      agent,
      `/attendance/manual-entries/${w.entry}`,
      `/attendance/manual-entries/${w.entry}/correction`,
      {
        time: '15:30',
        direction: 'departure',
        reason: '應為離校',
      },
    );
    expect(res.status).toBe(303);
    expect(await knex('attendance_days').where({ student_id: w.student, day: DAY }).first()).toMatchObject({
      arrival_time: '07:40',
      arrival_manual: false,
      departure_time: '15:30',
      departure_manual: true,
    });
    expect(dayRows((await agent.get(res.headers.location!)).text)[0]).toEqual(['王小明', '07:40', '補登 15:30']);
  });

  it('the teacher deletes one with a reason: gone from every page, the day recomputed, the old values audited', async () => {
    const w = await world();
    const agent = await teacher(w.schoolId);
    // 每日刷卡涵蓋率 counts the day's record (有紀錄學生數) until it is deleted.
    const recorded = async () =>
      reportRows((await agent.get(`/reports?from=${DAY}&to=${DAY}`)).text, 'coverage')[0]?.[2];
    expect(await recorded()).toBe('1');
    const res = await postForm(
      agent,
      `/attendance/manual-entries/${w.entry}`,
      `/attendance/manual-entries/${w.entry}/deletion`,
      {
        reason: '重複登錄',
      },
    );
    expect(res.status).toBe(303);
    expect(await knex('manual_entries').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await knex('attendance_days').count({ n: '*' }).first()).toEqual({ n: 0 });
    const log = await knex('audit_log').where({ action: 'attendance.manual_entry_deleted' }).first();
    expect(log).toMatchObject({ actor_account_id: w.teacher401, target_id: String(w.entry) });
    expect(log.details).toEqual({
      studentId: w.student,
      date: DAY,
      old: { time: '07:05', direction: 'arrival', reason: '忘記帶卡', enteredBy: '林老師' },
      reason: '重複登錄',
    });
    const day = (await agent.get(res.headers.location!)).text;
    expect(day).toContain('已刪除 王小明 的補登（到校 2026-11-24 07:05）');
    expect(dayRows(day)[0]).toEqual(['王小明', '未刷卡', '未刷卡']);
    expect(day).not.toContain('<h3>本日補登紀錄</h3>');
    expect((await agent.get(`/attendance/manual-entries/${w.entry}`)).status).toBe(404);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    for (const path of ['/', '/attendance', '/reports']) expect((await parent.get(path)).text).not.toContain('07:05');
    const csv = await agent.get(`/attendance/export.csv?classId=${w.class401}&date=${DAY}`);
    expect(csv.text).not.toContain('07:05');
    expect(await recorded()).toBe('0');
  });

  it("answers 404 to another class's teacher, another school's office and a parent, and nothing changes", async () => {
    const w = await world();
    const otherSchool = await createSchool(knex, { name: '市立仁愛國小' });
    await createStaff(knex, otherSchool, { role: 'school_admin', login: 'admin', name: '仁愛國小教務處' });
    const before = await state();
    const other = await teacher(w.schoolId, 't402');
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const foreignOffice = await signedIn(app, { role: 'school_admin', schoolId: otherSchool, login: 'admin' });
    for (const agent of [other, foreignOffice, parent]) {
      expect((await agent.get(`/attendance/manual-entries/${w.entry}`)).status).toBe(404);
      expect(
        (
          await postForm(agent, '/attendance', `/attendance/manual-entries/${w.entry}/correction`, {
            time: '08:05',
            direction: 'arrival',
            reason: 'x',
          })
        ).status,
      ).toBe(404);
      expect(
        (await postForm(agent, '/attendance', `/attendance/manual-entries/${w.entry}/deletion`, { reason: 'x' }))
          .status,
      ).toBe(404);
    }
    expect(
      (await postForm(other, '/attendance', '/attendance/manual-entries/abc/deletion', { reason: 'x' })).status,
    ).toBe(404);
    expect(
      (await postForm(other, '/attendance', '/attendance/manual-entries/99999/deletion', { reason: 'x' })).status,
    ).toBe(404);
    expect(await state()).toEqual(before);
  });

  it.each([
    [
      'a time not HH:mm',
      { time: '8:5', direction: 'arrival', reason: '更正' },
      '時間格式應為 HH:mm，例如 09:11',
      '8:5',
    ],
    ['no reason', { time: '08:05', direction: 'arrival', reason: ' ' }, '此欄位必填', '08:05'],
    [
      'a time later than now (today)',
      { time: '17:30', direction: 'arrival', reason: '更正' },
      '不可補登未來的時間',
      '17:30',
    ],
    ['no change at all', { time: '07:05', direction: 'arrival', reason: '更正' }, '時間與類別都沒有變更', '07:05'],
    ['an unknown direction', { time: '08:05', direction: 'sideways', reason: '更正' }, '請選擇到校或離校', '08:05'],
  ])(
    'refuses a correction with %s: 422, a zh-TW message, what was typed kept, nothing changes',
    async (_what, fields, message, typed) => {
      const w = await world();
      const agent = await teacher(w.schoolId);
      const before = await state();
      const res = await postForm(
        agent,
        `/attendance/manual-entries/${w.entry}`,
        `/attendance/manual-entries/${w.entry}/correction`,
        fields,
      );
      expect(res.status).toBe(422);
      expect(res.text).toContain(message);
      expect(res.text).toContain(`name="time" value="${typed}"`);
      expect(await state()).toEqual(before);
    },
  );

  it('refuses a deletion without a reason (422) and keeps the entry', async () => {
    const w = await world();
    const agent = await teacher(w.schoolId);
    const before = await state();
    const res = await postForm(
      agent,
      `/attendance/manual-entries/${w.entry}`,
      `/attendance/manual-entries/${w.entry}/deletion`,
      { reason: '' },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('此欄位必填');
    expect(await state()).toEqual(before);
  });
});

describe("the day's detail on the teacher's class day view", () => {
  it('lists every swipe with its reader and direction and every 補登, with which counted as 到校 / 離校', async () => {
    const w = await createSchoolWorld(knex);
    const gate = await createReaderToken(knex, w.schoolId, '正門', 'both');
    const side = await createReaderToken(knex, w.schoolId, '側門', 'in');
    const swipe = (readerId: number, studentId: number, at: string) =>
      createSwipe(knex, { readerId, schoolId: w.schoolId, studentId, at: `${DAY}T${at}` });
    await swipe(gate.readerId, w.student, '07:35');
    await swipe(gate.readerId, w.student, '07:50'); // a second morning tap: kept, not a departure
    await swipe(side.readerId, w.student, '16:00'); // an in reader: never a departure
    await swipe(gate.readerId, w.student, '16:05');
    await swipe(gate.readerId, w.student, '16:20'); // later: kept
    const li = await createStudent(knex, w.class401, { name: '李小華', studentNumber: '11301002', seat: 2 });
    await createManualEntry(knex, { studentId: li, date: DAY, time: '09:11', direction: 'arrival' });
    const otherClass = await createStudent(knex, w.class402, { name: '趙小龍', studentNumber: '11302001', seat: 1 });
    await swipe(gate.readerId, otherClass, '07:20');

    const agent = await teacher(w.schoolId);
    const page = (await agent.get(`/attendance?classId=${w.class401}&date=${DAY}`)).text;
    expect(dayRows(page)).toEqual([
      ['王小明', '07:35', '16:05'],
      ['李小華', '補登 09:11', '未刷卡'],
    ]);
    expect(detailOf(page, '王小明')).toEqual([
      '07:35 正門（進出）：到校',
      '07:50 正門（進出）：僅記錄',
      '16:00 側門（進校）：僅記錄',
      '16:05 正門（進出）：離校',
      '16:20 正門（進出）：僅記錄',
    ]);
    expect(detailOf(page, '李小華')).toEqual(['補登 09:11（到校）：到校']);
    expect(page).toMatch(/<details class="day-detail">\s*<summary>5 筆/);
    expect(page).not.toContain('趙小龍');
    expect(page).not.toContain('07:20');
  });
});
