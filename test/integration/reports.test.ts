import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createOutbox } from '../support/sms-factories.js';
import { createRequest } from '../support/subscriptions-factories.js';
import { createHoliday, createManualEntry, createReaderToken, createSwipe } from '../support/attendance-factories.js';
import { reportRows } from '../support/pages.js';

const { app } = useTestApp();
const knex = () => testDb().knex;

const RANGE = 'from=2026-11-02&to=2026-11-15';

/** Crafted data; the expected figures below are counted by hand. */
async function world() {
  const w = await createSchoolWorld(knex());
  const mei = await createStudent(knex(), w.class401, { name: '陳小美', studentNumber: '11301002', seat: 2 });
  const qiang = await createStudent(knex(), w.class401, { name: '林小強', studentNumber: '11301003', seat: 3 });
  const hua = await createStudent(knex(), w.class402, { name: '張小華', studentNumber: '11302001', seat: 1 });
  const term = await createPeriod(knex(), w.schoolId, { name: '115學年度上學期' });
  const short = await createPeriod(knex(), w.schoolId, { name: '短期', startsOn: '2026-09-01', endsOn: '2026-11-05' });
  const old = await createPeriod(knex(), w.schoolId, {
    name: '114學年度下學期',
    startsOn: '2026-02-01',
    endsOn: '2026-07-31',
  });
  const subMing = await createSubscription(knex(), w.student, term);
  await createSubscription(knex(), w.student, short); // active, period ended → 已到期
  await createSubscription(knex(), w.student, old); // outside the range
  const subMei = await createSubscription(knex(), mei, term, { status: 'pending', effectiveOn: null });
  const subQiang = await createSubscription(knex(), qiang, term, { status: 'cancelled', cancelledOn: '2026-11-05' });
  const subHua = await createSubscription(knex(), hua, term);

  await createRequest(knex(), subMei, { kind: 'order', requestedOn: '2026-11-03' });
  await createRequest(knex(), subQiang, {
    kind: 'cancellation',
    status: 'approved',
    requestedOn: '2026-11-04',
    effectiveOn: '2026-11-05',
    refund: 100,
    refundPaidOn: '2026-11-10',
  });
  await createRequest(knex(), subHua, {
    kind: 'order',
    status: 'approved',
    requestedOn: '2026-11-10',
    effectiveOn: '2026-11-11',
  });
  // Only the request row: 王小明's subscription stays 生效 in 各班訂購狀態.
  await createRequest(knex(), subMing, { kind: 'cancellation', requestedOn: '2026-11-11', leaveSubscription: true });
  await createRequest(knex(), subHua, {
    kind: 'cancellation',
    status: 'approved',
    requestedOn: '2026-11-11',
    effectiveOn: '2026-11-12',
    refund: 50,
  });
  await createRequest(knex(), subMing, {
    kind: 'order',
    status: 'approved',
    requestedOn: '2026-10-20',
    effectiveOn: '2026-10-21',
  });

  const s = w.schoolId;
  await createOutbox(knex(), {
    schoolId: s,
    studentId: w.student,
    status: 'delivered',
    createdAt: '2026-11-03T01:00:00Z',
  });
  await createOutbox(knex(), { schoolId: s, studentId: w.student, status: 'sent', createdAt: '2026-11-03T01:01:00Z' });
  await createOutbox(knex(), {
    schoolId: s,
    studentId: w.student,
    status: 'failed',
    createdAt: '2026-11-03T08:00:00Z',
  });
  await createOutbox(knex(), {
    schoolId: s,
    studentId: w.student,
    status: 'queued',
    createdAt: '2026-11-03T16:30:00Z',
  }); // 11-04 00:30 Taipei
  await createOutbox(knex(), { schoolId: s, studentId: hua, status: 'delivered', createdAt: '2026-11-03T02:00:00Z' });
  await createOutbox(knex(), { schoolId: s, studentId: hua, status: 'delivered', createdAt: '2026-11-16T01:00:00Z' }); // outside

  const { readerId: reader } = await createReaderToken(knex(), s);
  await createSwipe(knex(), { readerId: reader, schoolId: s, studentId: w.student, at: '2026-11-02T07:40' });
  await createSwipe(knex(), { readerId: reader, schoolId: s, studentId: w.student, at: '2026-11-02T16:00' });
  await createSwipe(knex(), { readerId: reader, schoolId: s, studentId: w.student, at: '2026-11-03T07:40' });
  await createSwipe(knex(), { readerId: reader, schoolId: s, studentId: mei, at: '2026-11-03T07:45' });
  await createSwipe(knex(), { readerId: reader, schoolId: s, studentId: hua, at: '2026-11-02T07:50' });
  await createSwipe(knex(), { readerId: reader, schoolId: s, studentId: w.student, at: '2026-11-07T09:00' }); // a Saturday
  await createManualEntry(knex(), { studentId: qiang, date: '2026-11-03', direction: 'arrival', time: '08:10' });
  await createHoliday(knex(), s, '2026-11-06', '校慶補假');
  return { ...w, mei, qiang, hua };
}

function csvRows(text: string): string[][] {
  return text
    .replace(/^\uFEFF/, '')
    .trimEnd()
    .split('\r\n')
    .map((l) => l.split(','));
}

describe('統計報表 for staff', () => {
  it('computes the school’s figures as counted by hand; each CSV has the BOM and the same figures', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await agent.get(`/reports?${RANGE}`);
    expect(res.status).toBe(200);

    const subs = reportRows(res.text, 'subscriptions');
    // 班級, 生效, 審核中, 註銷審核中, 已註銷, 已退回, 已取消, 已到期, 合計
    expect(subs).toEqual([
      ['四年一班', '1', '1', '0', '1', '0', '0', '1', '4'],
      ['四年二班', '1', '0', '0', '0', '0', '0', '0', '1'],
      ['合計', '2', '1', '0', '1', '0', '0', '1', '5'],
    ]);
    expect(reportRows(res.text, 'requests')).toEqual([
      ['2026-11-02~11-08', '1', '0', '1', '1'],
      ['2026-11-09~11-15', '1', '1', '2', '1'],
      ['合計', '2', '1', '3', '2'],
    ]);
    expect(reportRows(res.text, 'refunds')).toEqual([
      ['四年一班', '1', '100', '1', '100', '0'],
      ['四年二班', '1', '50', '0', '0', '50'],
      ['合計', '2', '150', '1', '100', '50'],
    ]);
    const sms = reportRows(res.text, 'sms');
    expect(sms).toHaveLength(15); // 14 days + 合計
    expect(sms[1]).toEqual(['2026-11-03', '星期二', '3', '2', '1', '0']);
    expect(sms[2]).toEqual(['2026-11-04', '星期三', '0', '0', '0', '1']);
    expect(sms[0]).toEqual(['2026-11-02', '星期一', '0', '0', '0', '0']);
    expect(sms[14]).toEqual(['合計', '', '3', '2', '1', '1']);
    const cov = reportRows(res.text, 'coverage');
    expect(cov.map((r) => r[0])).toEqual([
      '2026-11-02',
      '2026-11-03',
      '2026-11-04',
      '2026-11-05',
      '2026-11-07',
      '2026-11-09',
      '2026-11-10',
      '2026-11-11',
      '2026-11-12',
      '2026-11-13',
    ]);
    expect(cov[0]).toEqual(['2026-11-02', '星期一', '2', '4', '50.0%']);
    expect(cov[1]).toEqual(['2026-11-03', '星期二', '3', '4', '75.0%']);
    expect(cov[4]).toEqual(['2026-11-07', '星期六', '1', '4', '25.0%']);
    expect(res.text).not.toContain('缺席');

    // Charts: server-rendered SVG with a title and a description, no inline style or script.
    expect((res.text.match(/<svg /g) ?? []).length).toBe(5);
    expect(res.text).toContain('<title id="chart-sms-title">每日簡訊發送</title>');
    expect(res.text).toMatch(/<desc id="chart-coverage-desc">/);
    expect(res.text).not.toMatch(/style=/);
    expect(res.text).not.toMatch(/<script>/);

    for (const key of ['subscriptions', 'requests', 'refunds', 'sms', 'coverage']) {
      const csv = await agent
        .get(`/reports/${key}.csv?${RANGE}`)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toContain('text/csv');
      const buf = csv.body as Buffer;
      expect([...buf.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const rows = csvRows(buf.toString('utf8'));
      expect(rows.slice(1)).toEqual(reportRows(res.text, key));
    }
  });

  it('a teacher sees only their class', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await agent.get(`/reports?${RANGE}`);
    expect(res.status).toBe(200);
    expect(reportRows(res.text, 'subscriptions')).toEqual([
      ['四年一班', '1', '1', '0', '1', '0', '0', '1', '4'],
      ['合計', '1', '1', '0', '1', '0', '0', '1', '4'],
    ]);
    expect(res.text).not.toContain('四年二班');
    expect(reportRows(res.text, 'sms')[1]).toEqual(['2026-11-03', '星期二', '2', '1', '1', '0']);
    const cov = reportRows(res.text, 'coverage');
    expect(cov[0]).toEqual(['2026-11-02', '星期一', '1', '3', '33.3%']);
    expect(cov[1]).toEqual(['2026-11-03', '星期二', '3', '3', '100.0%']);
    const csv = await agent.get(`/reports/refunds.csv?${RANGE}`);
    expect(csv.text).not.toContain('四年二班');
  });

  it('validates the date range', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const reversed = await agent.get('/reports?from=2026-11-10&to=2026-11-01');
    expect(reversed.status).toBe(422);
    expect(reversed.text).toContain('開始日期不可晚於結束日期');
    expect((await agent.get('/reports?from=2026-02-30')).text).toContain('不是有效的日期');
    expect((await agent.get('/reports?from=2026-01-01&to=2026-11-01')).text).toContain('日期區間最長 92 天');
    expect((await agent.get('/reports?from[]=x')).status).toBe(422);
    expect((await agent.get('/reports/nope.csv')).status).toBe(404);
    expect((await agent.get('/reports/sms.csv?from=bad')).status).toBe(422);
    expect((await agent.get('/reports')).status).toBe(200);
  });
});

describe('統計報表 for a parent', () => {
  it('shows the child’s month as a calendar; 未刷卡 is never absence; no staff reports or CSV', async () => {
    const w = await world();
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const res = await agent.get('/reports?month=2026-11');
    expect(res.status).toBe(200);
    expect(res.text).toContain('王小明 2026-11 出勤月曆');
    // HTML allows no placeholder on type="month" (the W3C checker reports it).
    expect(res.text).toMatch(/<input id="month" name="month" type="month"/);
    expect(res.text).not.toMatch(/type="month"[^>]*placeholder/);
    expect(res.text).toContain('到 07:40');
    expect(res.text).toContain('離 16:00');
    expect(res.text).toContain('校慶補假');
    expect(res.text).toContain('未刷卡');
    expect(res.text).not.toContain('缺席');
    expect(res.text).not.toContain('各班訂購狀態');
    expect((await agent.get('/reports/sms.csv')).status).toBe(404);
    expect((await agent.get('/reports?month=2026-13')).status).toBe(422);
    // The calendar goes back 12 months, no further, and not into the future.
    const old = await agent.get('/reports?month=2020-01');
    expect(old.text).toContain('王小明 2025-11 出勤月曆');
    expect(old.text).not.toContain('上個月');
    expect((await agent.get('/reports?month=2030-01')).text).toContain('王小明 2026-11 出勤月曆');
    expect((await agent.get('/reports?month=2025-12')).text).toContain('href="/reports?month=2025-11"');
  });
});
