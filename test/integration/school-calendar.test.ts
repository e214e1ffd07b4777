import { SCRIPT_ACTOR } from '../../src/domain/audit.js';
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createSchool, createSchoolWorld } from '../support/factories.js';
import { createHoliday } from '../support/attendance-factories.js';
import { addHolidayRange } from '../../src/domain/schools/school-calendar.js';
import { gridRows, reportRows } from '../support/pages.js';

// Friday 2027-02-12, 10:00 Taipei: the day after the winter break (寒假 2027-01-21~2027-02-10) and 02-11.
const NOW = '2027-02-12T02:00:00Z';
const { app } = useTestApp({ now: NOW });
const knex = testDb().knex;
const PAGE = '/attendance/calendar';

/** The holiday table of the calendar page: [名稱, 日期, 天數]. */
function holidayRows(html: string): string[][] {
  const out: string[][] = [];
  const re =
    /<td data-label="名稱">([^<]*)<\/td>\s*<td data-label="日期">([^<]*)<\/td>\s*<td data-label="天數">([^<]*)<\/td>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push([m[1]!, m[2]!, m[3]!]);
  return out;
}

const snapshot = async () => ({
  ranges: await knex('school_holiday_ranges').orderBy('id').select('id', 'school_id', 'starts_on', 'ends_on', 'name'),
  days: Number((await knex('school_holidays').count({ n: '*' }).first())?.n),
  times: await knex('school_dismissal_times')
    .orderBy(['school_id', 'weekday'])
    .select('school_id', 'weekday', 'starts_at'),
  // Sign-ins are audited too: count the calendar's own rows.
  audit: await knex('audit_log')
    .where('action', 'like', 'holiday.%')
    .orWhere('action', 'like', 'dismissal_times.%')
    .pluck('action'),
});

const admin = (schoolId: number) => signedIn(app, { role: 'school_admin', schoolId, login: 'admin' });
const WEEK = { weekday1: '11:30', weekday2: '11:30', weekday3: '12:00', weekday4: '11:30', weekday5: '11:30' };

describe('GET /attendance/calendar (學校行事曆)', () => {
  it('shows the school admin the holidays of the current school year on and 放學時間 of each weekday (default 11:30)', async () => {
    const w = await createSchoolWorld(knex);
    await createHoliday(knex, w.schoolId, '2026-07-10', '去年的假日');
    await createHoliday(knex, w.schoolId, '2026-10-09', '國慶日補假');
    await addHolidayRange(
      knex,
      { schoolIds: [w.schoolId], from: '2027-01-21', to: '2027-02-10', name: '寒假' },
      SCRIPT_ACTOR,
    );
    const res = await (await admin(w.schoolId)).get(PAGE);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1 id="page-heading">學校行事曆</h1>');
    expect(holidayRows(res.text)).toEqual([
      ['國慶日補假', '2026-10-09', '1'],
      ['寒假', '2027-01-21~2027-02-10', '21'],
    ]);
    for (const [day, field] of [
      ['星期一', 'weekday1'],
      ['星期三', 'weekday3'],
      ['星期五', 'weekday5'],
    ])
      expect(res.text).toMatch(
        new RegExp(
          `<label for="d-${field}">${day}</label>\\s*<input type="time" id="d-${field}" name="${field}" value="11:30"`,
        ),
      );
    expect(res.text).toContain('aria-current="page">學校行事曆</a>');
  });

  it('is 404 for a teacher and a parent, who are not shown the link, and they change nothing', async () => {
    const w = await createSchoolWorld(knex);
    await createHoliday(knex, w.schoolId, '2026-10-09', '國慶日補假');
    const rangeId = (await knex('school_holiday_ranges').first('id')).id as number;
    const before = await snapshot();
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    for (const agent of [teacher, parent]) {
      expect((await agent.get(PAGE)).status).toBe(404);
      expect((await agent.get(`${PAGE}/holidays/${rangeId}/removal`)).status).toBe(404);
      expect(
        (
          await postForm(agent, '/attendance', `${PAGE}/holidays`, {
            name: '寒假',
            from: '2027-01-21',
            to: '2027-02-10',
          })
        ).status,
      ).toBe(404);
      expect((await postForm(agent, '/attendance', `${PAGE}/holidays/${rangeId}/removal`, {})).status).toBe(404);
      expect((await postForm(agent, '/attendance', `${PAGE}/dismissal-times`, WEEK)).status).toBe(404);
      expect((await agent.get('/attendance')).text).not.toContain('學校行事曆');
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('POST /attendance/calendar/holidays', () => {
  it('adds 寒假 as a named range: one range, one holiday row per day, an audit row, and the list shows it', async () => {
    const w = await createSchoolWorld(knex);
    const agent = await admin(w.schoolId);
    const res = await postForm(agent, PAGE, `${PAGE}/holidays`, { name: '寒假', from: '2027-01-21', to: '2027-02-10' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(PAGE);
    const ranges = await knex('school_holiday_ranges').select(
      'id',
      'school_id',
      'starts_on',
      'ends_on',
      'name',
      'created_by_account_id',
    );
    expect(ranges).toEqual([
      {
        id: expect.any(Number),
        school_id: w.schoolId,
        starts_on: '2027-01-21',
        ends_on: '2027-02-10',
        name: '寒假',
        created_by_account_id: w.admin,
      },
    ]);
    const days = await knex('school_holidays')
      .where({ range_id: ranges[0].id })
      .orderBy('holiday_on')
      .pluck('holiday_on');
    expect(days).toHaveLength(21);
    expect([days[0], days.at(-1)]).toEqual(['2027-01-21', '2027-02-10']);
    const log = await knex('audit_log').where({ action: 'holiday.added' }).first();
    expect(log).toMatchObject({
      actor_account_id: w.admin,
      school_id: w.schoolId,
      target_type: 'school_holiday_range',
      target_id: String(ranges[0].id),
    });
    expect(log.details).toMatchObject({ from: '2027-01-21', to: '2027-02-10', name: '寒假' });
    const page = await agent.get(PAGE);
    expect(page.text).toContain('已新增假日「寒假」2027-01-21~2027-02-10');
    expect(holidayRows(page.text)).toEqual([['寒假', '2027-01-21~2027-02-10', '21']]);
  });

  it('adds a single day when 結束日期 is left empty', async () => {
    const w = await createSchoolWorld(knex);
    const res = await postForm(await admin(w.schoolId), PAGE, `${PAGE}/holidays`, {
      name: '校慶補假',
      from: '2027-03-01',
      to: '',
    });
    expect(res.status).toBe(303);
    expect(await knex('school_holidays').select('holiday_on', 'name')).toEqual([
      { holiday_on: '2027-03-01', name: '校慶補假' },
    ]);
  });

  it.each([
    ['an end before the start', { name: '寒假', from: '2027-02-10', to: '2027-01-21' }, '結束日期不可早於開始日期'],
    [
      'a range longer than a school year',
      { name: '長假', from: '2027-01-01', to: '2028-01-05' },
      '一個假期最多 366 天',
    ],
    ['no name', { name: '  ', from: '2027-03-01', to: '' }, '此欄位必填'],
    ['a date that does not exist', { name: '假日', from: '2027-02-30', to: '' }, '不是有效的日期'],
    ['a date in another format', { name: '假日', from: '2027/03/01', to: '' }, '日期格式應為 YYYY-MM-DD'],
    [
      'an overlap with a range already there',
      { name: '春假', from: '2027-02-08', to: '2027-02-15' },
      '與已有的假日「寒假 2027-01-21~2027-02-10」重疊',
    ],
  ])(
    'refuses %s with 422, a zh-TW message, what was typed kept and nothing written',
    async (_what, fields, message) => {
      const w = await createSchoolWorld(knex);
      await addHolidayRange(
        knex,
        { schoolIds: [w.schoolId], from: '2027-01-21', to: '2027-02-10', name: '寒假' },
        SCRIPT_ACTOR,
      );
      const before = await snapshot();
      const res = await postForm(await admin(w.schoolId), PAGE, `${PAGE}/holidays`, fields);
      expect(res.status).toBe(422);
      expect(res.text).toContain(message);
      expect(res.text).toContain(`name="from" value="${fields.from}"`);
      expect(res.text).toContain(`name="to" value="${fields.to}"`);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('refuses extra fields and arrays without a 500', async () => {
    const w = await createSchoolWorld(knex);
    const agent = await admin(w.schoolId);
    const extra = await postForm(agent, PAGE, `${PAGE}/holidays`, {
      name: '假日',
      from: '2027-03-01',
      school_id: '999',
    });
    expect(extra.status).toBe(422);
    expect(extra.text).toContain('表單含有不允許的欄位');
    const arr = await postForm(agent, PAGE, `${PAGE}/holidays`, { name: ['a', 'b'], from: '2027-03-01' });
    expect(arr.status).toBe(422);
    expect(await knex('school_holiday_ranges').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('shows a name with markup as text', async () => {
    const w = await createSchoolWorld(knex);
    const agent = await admin(w.schoolId);
    await postForm(agent, PAGE, `${PAGE}/holidays`, { name: '<img src=x onerror=alert(1)>', from: '2027-03-01' });
    const page = await agent.get(PAGE);
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).not.toContain('<img src=x');
  });
});

describe('removing a holiday (POST /attendance/calendar/holidays/:id/removal)', () => {
  it('asks for confirmation, then removes the range and its days, audited', async () => {
    const w = await createSchoolWorld(knex);
    const { rangeIds } = await addHolidayRange(
      knex,
      { schoolIds: [w.schoolId], from: '2027-01-21', to: '2027-02-10', name: '寒假' },
      SCRIPT_ACTOR,
    );
    const agent = await admin(w.schoolId);
    const confirm = await agent.get(`${PAGE}/holidays/${rangeIds[0]}/removal`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('確定要刪除假日 <strong>寒假</strong>（2027-01-21~2027-02-10，共 21 天）嗎？');
    expect(await knex('school_holidays').count({ n: '*' }).first()).toEqual({ n: 21 });
    const res = await postForm(
      agent,
      `${PAGE}/holidays/${rangeIds[0]}/removal`,
      `${PAGE}/holidays/${rangeIds[0]}/removal`,
      {},
    );
    expect(res.status).toBe(303);
    expect(await knex('school_holiday_ranges').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await knex('school_holidays').count({ n: '*' }).first()).toEqual({ n: 0 });
    const log = await knex('audit_log').where({ action: 'holiday.removed' }).first();
    expect(log).toMatchObject({ actor_account_id: w.admin, target_id: String(rangeIds[0]) });
    expect(log.details).toMatchObject({ from: '2027-01-21', to: '2027-02-10', name: '寒假' });
    expect((await agent.get(PAGE)).text).toContain('已刪除假日「寒假」2027-01-21~2027-02-10');
  });

  it("answers 404 for another school's range (and a junk id) and removes nothing", async () => {
    const w = await createSchoolWorld(knex);
    const otherSchool = await createSchool(knex, { name: '市立仁愛國小' });
    const { rangeIds } = await addHolidayRange(
      knex,
      { schoolIds: [otherSchool], from: '2027-01-21', to: '2027-02-10', name: '寒假' },
      SCRIPT_ACTOR,
    );
    const before = await snapshot();
    const agent = await admin(w.schoolId);
    expect((await agent.get(`${PAGE}/holidays/${rangeIds[0]}/removal`)).status).toBe(404);
    expect((await postForm(agent, PAGE, `${PAGE}/holidays/${rangeIds[0]}/removal`, {})).status).toBe(404);
    expect((await postForm(agent, PAGE, `${PAGE}/holidays/abc/removal`, {})).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a removal without the CSRF token', async () => {
    const w = await createSchoolWorld(knex);
    const { rangeIds } = await addHolidayRange(
      knex,
      { schoolIds: [w.schoolId], from: '2027-03-01', to: '2027-03-01', name: '校慶補假' },
      SCRIPT_ACTOR,
    );
    const agent = await admin(w.schoolId);
    const res = await agent.post(`${PAGE}/holidays/${rangeIds[0]}/removal`).type('form').send({});
    expect(res.status).toBe(403);
    expect(await knex('school_holiday_ranges').count({ n: '*' }).first()).toEqual({ n: 1 });
  });
});

describe('POST /attendance/calendar/dismissal-times (放學時間)', () => {
  it('stores the time of each weekday and audits the old and new values', async () => {
    const w = await createSchoolWorld(knex);
    const agent = await admin(w.schoolId);
    const res = await postForm(agent, PAGE, `${PAGE}/dismissal-times`, WEEK);
    expect(res.status).toBe(303);
    expect(
      await knex('school_dismissal_times').orderBy('weekday').select('weekday', 'starts_at', 'updated_by_account_id'),
    ).toEqual(
      [1, 2, 3, 4, 5].map((d) => ({
        weekday: d,
        starts_at: d === 3 ? '12:00' : '11:30',
        updated_by_account_id: w.admin,
      })),
    );
    const log = await knex('audit_log').where({ action: 'dismissal_times.set' }).first();
    expect(log).toMatchObject({ actor_account_id: w.admin, school_id: w.schoolId });
    expect(log.details).toEqual({ changes: [{ weekday: 3, from: '11:30', to: '12:00' }] });
    const page = await agent.get(PAGE);
    expect(page.text).toContain('已更新放學時間：星期三 12:00');
    expect(page.text).toContain('name="weekday3" value="12:00"');
  });

  it.each([
    ['a time not HH:mm', { ...WEEK, weekday2: '12:5' }],
    ['an hour past 23', { ...WEEK, weekday2: '25:00' }],
    ['seconds', { ...WEEK, weekday2: '12:00:00' }],
    ['a missing day', { weekday1: '11:30', weekday3: '12:00', weekday4: '11:30', weekday5: '11:30' }],
  ])('refuses %s with 422 and a zh-TW message, what was typed kept, nothing written', async (_what, fields) => {
    const w = await createSchoolWorld(knex);
    const before = await snapshot();
    const res = await postForm(await admin(w.schoolId), PAGE, `${PAGE}/dismissal-times`, fields);
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/時間格式應為 HH:mm，例如 11:30|請輸入放學時間/);
    expect(res.text).toContain(`name="weekday2" value="${(fields as Record<string, string>).weekday2 ?? ''}"`);
    expect(res.text).toContain('name="weekday3" value="12:00"');
    expect(await snapshot()).toEqual(before);
  });
});

describe('a holiday range removes its weekdays from the grid and the reports', () => {
  it("drops 寒假's weekdays from the parent's 首頁, 出勤管理 and 統計報表 school days, and from the office's 每日刷卡涵蓋率", async () => {
    const w = await createSchoolWorld(knex);
    const parent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const office = await admin(w.schoolId);
    const coverageDays = async () =>
      reportRows((await office.get('/reports?from=2027-01-18&to=2027-02-12')).text, 'coverage').map((r) => r[0]);
    expect(await coverageDays()).toHaveLength(20); // every weekday of the four weeks
    // Before: the last 7 days 02-06 … 02-12 have five weekdays, all 未刷卡; February so far has 10 school days.
    expect(gridRows((await parent.get('/')).text).map((r) => r[0])).toEqual([
      '星期一 02-08',
      '星期二 02-09',
      '星期三 02-10',
      '星期四 02-11',
      '星期五 02-12',
    ]);
    expect((await parent.get('/reports')).text).toContain('本月至今上課日 10 天');

    const res = await postForm(await admin(w.schoolId), PAGE, `${PAGE}/holidays`, {
      name: '寒假',
      from: '2027-01-21',
      to: '2027-02-10',
    });
    expect(res.status).toBe(303);

    const home = gridRows((await parent.get('/')).text);
    expect(home).toEqual([
      ['星期四 02-11', '未刷卡', '未刷卡'],
      ['星期五 02-12', '未刷卡', '未刷卡'],
    ]);
    const att = gridRows((await parent.get('/attendance?from=2027-01-18&to=2027-02-12')).text);
    expect(att.map((r) => r[0])).toEqual([
      '星期一 01-18',
      '星期二 01-19',
      '星期三 01-20',
      '星期四 02-11',
      '星期五 02-12',
    ]);
    expect((await parent.get('/reports')).text).toContain('本月至今上課日 2 天');
    expect(await coverageDays()).toEqual(['2027-01-18', '2027-01-19', '2027-01-20', '2027-02-11', '2027-02-12']);
  });

  it("shows a day of the range as 假日 on the teacher's class day view, never 未刷卡", async () => {
    const w = await createSchoolWorld(knex);
    await addHolidayRange(
      knex,
      { schoolIds: [w.schoolId], from: '2027-01-21', to: '2027-02-10', name: '寒假' },
      SCRIPT_ACTOR,
    );
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await teacher.get(`/attendance?classId=${w.class401}&date=2027-01-25`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('本日是學校假日（寒假）');
    expect(res.text).toMatch(
      /<td data-label="姓名">王小明<\/td>\s*<td data-label="到校時間">假日<\/td>\s*<td data-label="離校時間">假日<\/td>/,
    );
    expect(res.text).not.toContain('未刷卡 1 人');
    const schoolDay = await teacher.get(`/attendance?classId=${w.class401}&date=2027-02-11`);
    expect(schoolDay.text).toContain('未刷卡 1 人');
  });
});
