import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { getCsrf, postForm, signedIn, useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';
import { createHoliday, createManualEntry, createReaderToken, createSwipe } from '../support/attendance-factories.js';
import { gridRows } from '../support/pages.js';

// Tuesday 2026-11-24, 17:00 Taipei.
const NOW = '2026-11-24T09:00:00Z';
const { app } = useTestApp({ now: NOW });
const knex = testDb().knex;

/** Rows of the staff day view: [座號, 學號, 姓名, 到校時間, 離校時間]. */
function dayRows(html: string): string[][] {
  const out: string[][] = [];
  const re =
    /<td data-label="座號">([^<]*)<\/td>\s*<td data-label="學號">([^<]*)<\/td>\s*<td data-label="姓名">([^<]*)<\/td>\s*<td data-label="到校時間"[^>]*>([^<]*)<\/td>\s*<td data-label="離校時間"[^>]*>([^<]*)<\/td>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push([m[1]!, m[2]!, m[3]!, m[4]!, m[5]!]);
  return out;
}

async function world() {
  const w = await createSchoolWorld(knex);
  const { readerId } = await createReaderToken(knex, w.schoolId);
  const swipe = (studentId: number | null, at: string) =>
    createSwipe(knex, { readerId, schoolId: w.schoolId, studentId, at });
  return { ...w, readerId, swipe };
}

/** A crafted week: 2026-11-18 (Wed) … 2026-11-24 (Tue); 11-20 (Fri) a holiday; 11-21/22 the weekend. */
async function craftedWeek() {
  const w = await world();
  await createHoliday(knex, w.schoolId, '2026-11-20');
  await w.swipe(w.student, '2026-11-18T07:42');
  await w.swipe(w.student, '2026-11-18T16:05');
  await createManualEntry(knex, {
    studentId: w.student,
    date: '2026-11-19',
    time: '09:11',
    direction: 'arrival',
    by: w.teacher401,
  });
  await w.swipe(w.student, '2026-11-21T09:00'); // a Saturday with a record
  await w.swipe(w.student, '2026-11-23T07:40');
  await w.swipe(w.student, '2026-11-23T07:45'); // within 10 minutes: not a departure
  await w.swipe(w.student, '2026-11-17T07:30'); // outside the window
  return w;
}

describe('首頁 出勤統計 (parent)', () => {
  it('shows the school days of the last 7 days with 到校時間 / 離校時間 and the 統計時間 range', async () => {
    const w = await craftedWeek();
    const agent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const res = await agent.get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('出勤統計：');
    expect(res.text).toContain('<th scope="col">到校時間</th><th scope="col">離校時間</th>');
    expect(gridRows(res.text)).toEqual([
      ['星期三 11-18', '07:42', '16:05'],
      ['星期四 11-19', '補登 09:11', '未刷卡'],
      ['星期六 11-21', '09:00', '未刷卡'],
      ['星期一 11-23', '07:40', '未刷卡'],
      ['星期二 11-24', '未刷卡', '未刷卡'],
    ]);
    expect(res.text).toContain('統計時間:2026-11-18~2026-11-24');
    expect(res.text).not.toMatch(/缺席|曠課/);
  });

  it("shows a weekday holiday only when it has a record, and no other student's records", async () => {
    const w = await world();
    await createHoliday(knex, w.schoolId, '2026-11-20');
    await createHoliday(knex, w.schoolId, '2026-11-23');
    await w.swipe(w.student, '2026-11-23T07:50');
    const other = await createStudent(knex, w.class401, { name: '李小華' });
    await w.swipe(other, '2026-11-24T07:10');
    const agent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const rows = gridRows((await agent.get('/')).text);
    expect(rows.map((r) => r[0])).toEqual(['星期三 11-18', '星期四 11-19', '星期一 11-23', '星期二 11-24']);
    expect(rows[3]).toEqual(['星期二 11-24', '未刷卡', '未刷卡']);
  });
});

describe('出勤管理 (parent)', () => {
  it('opens on the last 7 days like 首頁 and shows any range asked for', async () => {
    const w = await craftedWeek();
    const agent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const week = await agent.get('/attendance');
    expect(week.status).toBe(200);
    expect(week.text).toContain('統計時間:2026-11-18~2026-11-24');
    expect(week.text).toContain('name="from" value="2026-11-18"');
    // The same rows as 首頁's 出勤統計.
    expect(gridRows(week.text)).toEqual(gridRows((await agent.get('/')).text));
    expect(gridRows(week.text).map((r) => r[0])).toEqual([
      '星期三 11-18',
      '星期四 11-19',
      '星期六 11-21',
      '星期一 11-23',
      '星期二 11-24',
    ]);

    const month = await agent.get('/attendance?from=2026-11-01&to=2026-11-24');
    const rows = gridRows(month.text);
    expect(rows[0]).toEqual(['星期一 11-02', '未刷卡', '未刷卡']);
    expect(rows).toContainEqual(['星期二 11-17', '07:30', '未刷卡']);
    expect(rows.at(-1)).toEqual(['星期二 11-24', '未刷卡', '未刷卡']);
    expect(rows.map((r) => r[0])).not.toContain('星期五 11-20');

    const range = await agent.get('/attendance?from=2026-11-18&to=2026-11-19');
    expect(gridRows(range.text)).toEqual([
      ['星期三 11-18', '07:42', '16:05'],
      ['星期四 11-19', '補登 09:11', '未刷卡'],
    ]);
    expect(range.text).toContain('統計時間:2026-11-18~2026-11-19');
  });

  it('refuses a bad range with a message', async () => {
    const w = await world();
    const agent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    const reversed = await agent.get('/attendance?from=2026-11-20&to=2026-11-10');
    expect(reversed.status).toBe(400);
    expect(reversed.text).toContain('結束日期不可早於開始日期');
    const junk = await agent.get('/attendance?from=2026-02-30');
    expect(junk.status).toBe(400);
    expect(junk.text).toContain('不是有效的日期');
    expect((await agent.get('/attendance?from=2026-11-01&from=2026-11-02')).status).toBe(400);
    expect((await agent.get('/attendance?from=2025-01-01&to=2026-11-24')).text).toContain('查詢期間最多 366 天');
  });

  it('has no class view, 補登 or export for a parent', async () => {
    const w = await world();
    const agent = await signedIn(app, { schoolId: w.schoolId, login: w.parent.login });
    expect((await agent.get(`/attendance/export.csv?classId=${w.class401}&date=2026-11-24`)).status).toBe(404);
    const res = await postForm(agent, '/attendance', '/attendance/manual-entries', {
      classId: String(w.class401),
      studentId: String(w.student),
      date: '2026-11-24',
      time: '08:00',
      direction: 'arrival',
      reason: '忘記帶卡',
    });
    expect(res.status).toBe(404);
    expect(await knex('manual_entries').count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('出勤管理 (teacher)', () => {
  it("shows the class's day: arrival, departure, 補登 and 未刷卡", async () => {
    const w = await world();
    const li = await createStudent(knex, w.class401, { name: '李小華', studentNumber: '11301002', seat: 2 });
    const chen = await createStudent(knex, w.class401, { name: '陳小美', studentNumber: '11301003', seat: 3 });
    await w.swipe(w.student, '2026-11-24T07:42');
    await w.swipe(w.student, '2026-11-24T07:50'); // within 10 minutes
    await w.swipe(w.student, '2026-11-24T16:02');
    await createManualEntry(knex, { studentId: li, date: '2026-11-24', time: '09:11', direction: 'arrival' });
    void chen;
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await agent.get('/attendance');
    expect(res.status).toBe(200);
    expect(dayRows(res.text)).toEqual([
      ['1', '11301001', '王小明', '07:42', '16:02'],
      ['2', '11301002', '李小華', '補登 09:11', '未刷卡'],
      ['3', '11301003', '陳小美', '未刷卡', '未刷卡'],
    ]);
    expect(res.text).toContain('學生 3 人，已到校 2 人，未刷卡 1 人。');
    expect(res.text).not.toMatch(/缺席|曠課/);

    const earlier = await agent.get(`/attendance?classId=${w.class401}&date=2026-11-23`);
    expect(dayRows(earlier.text).map((r) => r[3])).toEqual(['未刷卡', '未刷卡', '未刷卡']);
  });

  it("answers 404 for another class's day view", async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await agent.get(`/attendance?classId=${w.class402}`)).status).toBe(404);
    expect((await agent.get(`/attendance/export.csv?classId=${w.class402}&date=2026-11-24`)).status).toBe(404);
  });

  it('records a 補登 with who entered it, shows it as 補登 HH:mm and sends no SMS', async () => {
    const w = await world();
    const period = await createPeriod(knex, w.schoolId);
    await createSubscription(knex, w.student, period);
    await createPhone(knex, w.student);
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(agent, '/attendance', '/attendance/manual-entries', {
      classId: String(w.class401),
      studentId: String(w.student),
      date: '2026-11-24',
      time: '09:11',
      direction: 'arrival',
      reason: '忘記帶卡',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/attendance?classId=${w.class401}&date=2026-11-24`);
    const rows = await knex('manual_entries').select(
      'student_id',
      'entry_date',
      'entry_time',
      'direction',
      'reason',
      'entered_by_account_id',
    );
    expect(rows).toEqual([
      {
        student_id: w.student,
        entry_date: '2026-11-24',
        entry_time: '09:11',
        direction: 'arrival',
        reason: '忘記帶卡',
        entered_by_account_id: w.teacher401,
      },
    ]);
    const page = await agent.get(res.headers.location!);
    expect(page.text).toContain('已補登到校 2026-11-24 09:11');
    expect(dayRows(page.text)[0]).toEqual(['1', '11301001', '王小明', '補登 09:11', '未刷卡']);
    expect(page.text).toContain('本日補登紀錄');
    expect(page.text).toContain('林老師');
    expect(await knex('sms_outbox').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await knex('audit_log').where({ action: 'attendance.manual_entry' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('re-renders the form with messages on bad input and writes nothing', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const base = {
      classId: String(w.class401),
      studentId: String(w.student),
      date: '2026-11-24',
      time: '09:11',
      direction: 'arrival',
      reason: '忘記帶卡',
    };
    const cases: [Record<string, string | string[]>, string][] = [
      [{ ...base, reason: '   ' }, '此欄位必填'],
      [{ ...base, time: '9:11' }, '時間格式應為 HH:mm'],
      [{ ...base, time: '24:00' }, '時間格式應為 HH:mm'],
      [{ ...base, direction: 'absent' }, '請選擇到校或離校'],
      [{ ...base, date: '2026-11-25' }, '不可補登未來的日期'],
      [{ ...base, time: '17:30' }, '不可補登未來的時間'],
      [{ ...base, date: '2026-13-01' }, '不是有效的日期'],
      [{ ...base, date: '2026/11/24' }, '日期格式應為 YYYY-MM-DD'],
      [{ ...base, reason: 'x'.repeat(201) }, '最多 200 個字'],
      [{ ...base, studentId: '' }, '請選擇學生'],
      [{ ...base, status: 'approved' }, '表單含有不允許的欄位'],
      [{ ...base, time: ['09:11', '09:12'] }, '請輸入時間'],
    ];
    for (const [fields, message] of cases) {
      const res = await postForm(agent, '/attendance', '/attendance/manual-entries', fields);
      expect(res.status, JSON.stringify(fields)).toBe(422);
      expect(res.text).toContain(message);
      expect(res.text).toContain('補登');
    }
    expect(await knex('manual_entries').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it("answers 404 to a 補登 for another class's student and writes nothing", async () => {
    const w = await world();
    const other = await createStudent(knex, w.class402, { name: '張小強' });
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const fields = {
      classId: String(w.class401),
      studentId: String(other),
      date: '2026-11-24',
      time: '09:11',
      direction: 'arrival',
      reason: '忘記帶卡',
    };
    expect((await postForm(agent, '/attendance', '/attendance/manual-entries', fields)).status).toBe(404);
    expect(
      (await postForm(agent, '/attendance', '/attendance/manual-entries', { ...fields, classId: String(w.class402) }))
        .status,
    ).toBe(404);
    // The student of another school, even through an admin.
    const far = await createSchoolWorld(knex, { schoolName: '市立仁愛國小' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const cross = await postForm(admin, '/attendance', '/attendance/manual-entries', {
      ...fields,
      classId: String(far.class401),
      studentId: String(far.student),
    });
    expect(cross.status).toBe(404);
    expect(await knex('manual_entries').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('answers junk query values with 400 or 404, never 500', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    for (const q of [
      'classId[a]=1',
      'classId=1&classId=2',
      'date=%00',
      'date=2026-11-24%00',
      'classId=99999999999',
      'classId=-1',
      'date=２０２６-１１-２４',
      'x=1',
    ]) {
      const res = await agent.get(`/attendance?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.text).toContain('查詢條件有誤');
    }
    expect((await agent.get('/attendance?classId=2147483647')).status).toBe(404);
    for (const q of ['classId=1&from[a]=1', 'classId=1&date=%00', 'classId=%EF%BC%91']) {
      expect((await agent.get(`/attendance/export.csv?${q}`)).status, q).toBe(400);
    }
  });

  it('lets a school admin see any class of the school', async () => {
    const w = await world();
    await createStudent(knex, w.class402, { name: '張小強', studentNumber: '11302001', seat: 1 });
    const agent = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await agent.get(`/attendance?classId=${w.class402}`);
    expect(res.status).toBe(200);
    expect(dayRows(res.text)).toEqual([['1', '11302001', '張小強', '未刷卡', '未刷卡']]);
    expect(res.text).toContain('未對應刷卡');
  });

  it('exports the day as CSV with a BOM and a zh-TW header', async () => {
    const w = await world();
    await w.swipe(w.student, '2026-11-24T07:42');
    await w.swipe(w.student, '2026-11-24T16:02');
    const li = await createStudent(knex, w.class401, { name: '=李小華', studentNumber: '11301002', seat: 2 });
    await createManualEntry(knex, { studentId: li, date: '2026-11-24', time: '09:11', direction: 'arrival' });
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await agent
      .get(`/attendance/export.csv?classId=${w.class401}&date=2026-11-24`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="attendance-\d+-2026-11-24_2026-11-24\.csv"$/,
    );
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(lines).toEqual([
      '"日期","星期","班級","座號","學號","姓名","到校時間","離校時間"',
      '"2026-11-24","星期二","四年一班","1","11301001","王小明","07:42","16:02"',
      '"2026-11-24","星期二","四年一班","2","11301002","\'=李小華","補登 09:11","未刷卡"',
    ]);
  });

  it('exports a range of school days', async () => {
    const w = await craftedWeek();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await agent.get(`/attendance/export.csv?classId=${w.class401}&from=2026-11-18&to=2026-11-24`);
    expect(res.status).toBe(200);
    const lines = res.text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 1).concat(l.split(',').slice(6)).join(','))).toEqual([
      '"2026-11-18","07:42","16:05"',
      '"2026-11-19","補登 09:11","未刷卡"',
      '"2026-11-21","09:00","未刷卡"',
      '"2026-11-23","07:40","未刷卡"',
      '"2026-11-24","未刷卡","未刷卡"',
    ]);
    expect((await agent.get(`/attendance/export.csv?classId=${w.class401}&from=2026-11-24&to=2026-11-18`)).status).toBe(
      400,
    );
    const bad = await agent.get(`/attendance/export.csv?classId=abc`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('匯出條件有誤');
  });

  it("shows staff today's summary of their classes on 首頁", async () => {
    const w = await world();
    await createStudent(knex, w.class401, { name: '李小華' });
    await w.swipe(w.student, '2026-11-24T07:42');
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await agent.get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('今日出勤（2026-11-24）');
    expect(res.text).toMatch(
      /<td data-label="班級">四年一班<\/td>\s*<td data-label="學生數">2<\/td>\s*<td data-label="已到校">1<\/td>\s*<td data-label="未刷卡">1<\/td>/,
    );
    expect(res.text).not.toContain('四年二班');
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    expect((await admin.get('/')).text).toContain('四年二班');
  });

  it('never shows the anonymous visitor anything', async () => {
    expect((await request(app).get('/attendance')).status).toBe(303);
    expect((await request(app).get('/attendance/export.csv?classId=1&date=2026-11-24')).status).toBe(303);
  });
});

void getCsrf;
