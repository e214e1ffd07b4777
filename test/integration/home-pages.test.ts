/**
 * 首頁 as each user sees it, now that each page's reads are one statement (src/domain/folded.ts): the parent's
 * latest announcements, current child's 出勤統計 and open decision notices; the staff's class summary (the school's
 * day), announcements and today's SMS. Another family's child never appears, another school's holiday never
 * shapes the grid, a dismissed notice stays gone, and the summary's counts are those a recount in SQL gives.
 */
import { describe, expect, it } from 'vitest';
import { statementsOf, testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createClass, createParent, createPeriod, createSchool, createStudent } from '../support/factories.js';
import { createAnnouncement } from '../support/content-factories.js';
import { createHoliday, createManualEntry, createReaderToken, createSwipe } from '../support/attendance-factories.js';
import { createOrder, createRequest, smsWorld, userFor } from '../support/subscriptions-factories.js';
import { gridRows, textOf } from '../support/pages.js';
import { parentHome, staffHome } from '../../src/domain/announcements/home-extras.js';
import { latestAnnouncements } from '../../src/domain/announcements/announcements.js';
import { loadDays } from '../../src/domain/attendance/days.js';
import { classSummaries, gridRow } from '../../src/domain/attendance/records.js';
import { gridDates } from '../../src/domain/attendance/rules.js';
import { loadHolidays } from '../../src/domain/schools/school-calendar.js';
import { listDecisionNotices } from '../../src/domain/subscriptions/decision-notices.js';

// Tuesday 2026-11-24, 17:00 in Taipei: 首頁's 出勤統計 covers 2026-11-18 (Wed) … 2026-11-24.
const NOW = '2026-11-24T09:00:00Z';
const FROM = '2026-11-18';
const TODAY = '2026-11-24';
const { app } = useTestApp({ now: NOW });
const knex = testDb().knex;

const noticesOf = (html: string) =>
  textOf(/<section class="panel home-decisions"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '');
const announcementsOf = (html: string) =>
  textOf(/<section class="panel home-announcements"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '');

/**
 * 忠孝國小 (smsWorld: 王小明 and 陳小美 in 401, two families) with swipes, a decision for each family and an
 * announcement; 景美國中, another school, with its own pupil, swipes, holidays and announcement.
 */
async function twoFamiliesTwoSchools() {
  const w = await smsWorld(knex);
  const { readerId } = await createReaderToken(knex, w.schoolId);
  const swipe = (studentId: number, at: string) => createSwipe(knex, { readerId, schoolId: w.schoolId, studentId, at });
  await swipe(w.student, '2026-11-23T07:40');
  await swipe(w.otherChild, '2026-11-18T07:11');
  await swipe(w.otherChild, '2026-11-24T07:12');
  await swipe(w.otherChild, '2026-11-24T16:21');

  const other = await createSchool(knex, { name: '市立景美國中', district: '文山區', level: 'junior_high' });
  const class801 = await createClass(knex, other, { code: '801', name: '八年一班', grade: 8 });
  const hua = await createStudent(knex, class801, { name: '吳小芳', studentNumber: '11201001', seat: 1 });
  await createParent(knex, [hua], { name: '吳媽媽' });
  const { readerId: otherReader } = await createReaderToken(knex, other);
  await createSwipe(knex, { readerId: otherReader, schoolId: other, studentId: hua, at: '2026-11-19T07:13' });
  await createHoliday(knex, other, '2026-11-19', '景美校慶');
  await createHoliday(knex, other, '2026-11-23', '景美補假');

  await createAnnouncement(knex, { schoolId: null, title: '教育局的公告', publishedAt: '2026-11-20T01:00:00Z' });
  await createAnnouncement(knex, { schoolId: w.schoolId, title: '忠孝的公告', publishedAt: '2026-11-21T01:00:00Z' });
  await createAnnouncement(knex, { schoolId: other, title: '景美的公告', publishedAt: '2026-11-22T01:00:00Z' });

  // 王小明's cancellation approved (effective tomorrow), 陳小美's order rejected with a reason.
  const cancel = await createRequest(knex, w.subscriptionId, { kind: 'cancellation', requestedOn: TODAY });
  const { requestId: order } = await createOrder(knex, w.otherChild, w.periodId, { on: TODAY, by: '陳媽媽' });
  const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
  expect((await postForm(teacher, '/reviews', `/reviews/${cancel}/approval`, {})).status).toBe(303);
  expect(
    (
      await postForm(teacher, `/reviews/${order}/rejection/new`, `/reviews/${order}/rejection`, {
        reason: '請先到註冊服務登記手機',
      })
    ).status,
  ).toBe(303);
  return { w, other, hua };
}

describe("the parent's 首頁", () => {
  it("shows the parent's own child, notices and announcements only — never another family's or another school's", async () => {
    const { w } = await twoFamiliesTwoSchools();
    const wang = (await (await signedIn(app, { schoolId: w.schoolId, login: '11301001' })).get('/')).text;
    expect(gridRows(wang)).toEqual([
      ['星期三 11-18', '未刷卡', '未刷卡'],
      ['星期四 11-19', '未刷卡', '未刷卡'],
      ['星期五 11-20', '未刷卡', '未刷卡'],
      ['星期一 11-23', '07:40', '未刷卡'],
      ['星期二 11-24', '未刷卡', '未刷卡'],
    ]);
    expect(noticesOf(wang)).toContain('王小明 115學年度上學期（到校SMS 離校SMS）： 註銷申請已核准，2026-11-25 起停止');
    expect(announcementsOf(wang)).toContain('忠孝的公告');
    expect(announcementsOf(wang)).toContain('教育局的公告');
    // Nothing of the other family (陳小美: her swipes, her notice) nor of the other school's pupil or announcement.
    for (const foreign of ['陳小美', '07:11', '07:12', '16:21', '請先到註冊服務登記手機', '吳小芳', '07:13', '景美'])
      expect(wang, foreign).not.toContain(foreign);

    const chen = (await (await signedIn(app, { schoolId: w.schoolId, login: '11301002' })).get('/')).text;
    expect(gridRows(chen)).toEqual([
      ['星期三 11-18', '07:11', '未刷卡'],
      ['星期四 11-19', '未刷卡', '未刷卡'],
      ['星期五 11-20', '未刷卡', '未刷卡'],
      ['星期一 11-23', '未刷卡', '未刷卡'],
      ['星期二 11-24', '07:12', '16:21'],
    ]);
    expect(noticesOf(chen)).toContain(
      '陳小美 115學年度上學期（到校SMS 離校SMS）： 訂購申請已退回 ，原因：請先到註冊服務登記手機',
    );
    for (const foreign of ['王小明', '07:40', '註銷申請已核准', '景美']) expect(chen, foreign).not.toContain(foreign);
  });

  it("leaves out the child's school's holidays, never another school's (首頁 and 出勤管理 alike)", async () => {
    const { w, other, hua } = await twoFamiliesTwoSchools();
    await createHoliday(knex, w.schoolId, '2026-11-20', '忠孝補假');
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const expected = [
      ['星期三 11-18', '未刷卡', '未刷卡'],
      ['星期四 11-19', '未刷卡', '未刷卡'], // 景美校慶 is 景美國中's
      ['星期一 11-23', '07:40', '未刷卡'], // 景美補假 too
      ['星期二 11-24', '未刷卡', '未刷卡'],
    ];
    expect(gridRows((await wang.get('/')).text)).toEqual(expected);
    expect(gridRows((await wang.get('/attendance')).text)).toEqual(expected);
    // And the other school's pupil's grid keeps 忠孝's 11-20 and leaves out its own holidays — but shows the
    // holiday that has a record.
    const li = await signedIn(app, { schoolId: other, login: '11201001' });
    expect(gridRows((await li.get('/')).text)).toEqual([
      ['星期三 11-18', '未刷卡', '未刷卡'],
      ['星期四 11-19', '07:13', '未刷卡'],
      ['星期五 11-20', '未刷卡', '未刷卡'],
      ['星期二 11-24', '未刷卡', '未刷卡'],
    ]);
    void hua;
  });

  it('keeps a dismissed notice gone, and shows the notice not yet dismissed', async () => {
    const { w } = await twoFamiliesTwoSchools();
    // A second decision for 王小明: his order for the next period, rejected.
    const next = await createPeriod(knex, w.schoolId, {
      name: '115學年度下學期',
      startsOn: '2027-02-11',
      endsOn: '2027-06-30',
    });
    const { requestId: reorder } = await createOrder(knex, w.student, next, { on: TODAY, by: '王大明' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(
      (
        await postForm(teacher, `/reviews/${reorder}/rejection/new`, `/reviews/${reorder}/rejection`, {
          reason: '下學期尚未開放',
        })
      ).status,
    ).toBe(303);
    const wang = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const both = noticesOf((await wang.get('/')).text);
    expect(both).toContain('註銷申請已核准');
    expect(both).toContain('原因：下學期尚未開放');
    // The newest first.
    expect(both.indexOf('下學期尚未開放')).toBeLessThan(both.indexOf('註銷申請已核准'));

    const approval = (
      await knex('decision_notices as n')
        .join('review_requests as r', 'r.id', 'n.request_id')
        .where({ 'n.guardian_id': w.parent.guardianId, 'r.kind': 'cancellation' })
        .first('n.id')
    ).id as number;
    expect((await postForm(wang, '/', `/sms/decision-notices/${approval}/dismissal`, {})).status).toBe(303);
    for (let i = 0; i < 2; i++) {
      const left = noticesOf((await wang.get('/')).text);
      expect(left).not.toContain('註銷申請已核准');
      expect(left).toContain('原因：下學期尚未開放');
    }
    const upTo = (await knex('decision_notices').where({ guardian_id: w.parent.guardianId }).max({ m: 'id' }).first())
      ?.m as number;
    expect((await postForm(wang, '/', '/sms/decision-notices/dismissal', { upTo: String(upTo) })).status).toBe(303);
    expect((await wang.get('/')).text).not.toContain('申請審核結果');
  });

  it('answers what the readers answer one by one, in one statement after the session’s', async () => {
    const { w } = await twoFamiliesTwoSchools();
    const user = await userFor(knex, w.parent.accountId);
    const now = new Date(NOW);
    const home = await parentHome(knex, user, now, FROM, TODAY);
    const child = user.currentChild!;
    const [book, holidays] = [
      await loadDays(knex, [child.id], FROM, TODAY),
      await loadHolidays(knex, child.schoolId, FROM, TODAY),
    ];
    const days = book.get(child.id) ?? new Map();
    expect(home).toEqual({
      homeExtras: { latestAnnouncements: await latestAnnouncements(knex, user, now, 5), staffCounts: undefined },
      rows: gridDates(FROM, TODAY, holidays, new Set(days.keys())).map((d) => gridRow(d, days.get(d))),
      decisionNotices: await listDecisionNotices(knex, user),
    });
    expect(home.homeExtras.latestAnnouncements[0]?.publishedAt).toBeInstanceOf(Date);
    expect(home.decisionNotices[0]?.decidedAt).toBeInstanceOf(Date);

    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    await agent.get('/').expect(200); // the first page after sign-in may consume the sign-in's flash
    const { result: page, sqls } = await statementsOf(() => agent.get('/'));
    expect(page.status).toBe(200);
    expect(sqls).toHaveLength(2);
    expect(sqls[0]).toMatch(/from "session" where sid = \$1/);
    expect(sqls[1]).toContain('json_agg');
  });
});

/** The rows of the staff 首頁's 今日出勤: [班級, 學生數, 已到校, 未刷卡]. */
function summaryRows(html: string): string[][] {
  const re =
    /<td data-label="班級">([^<]*)<\/td>\s*<td data-label="學生數">(\d+)<\/td>\s*<td data-label="已到校">(\d+)<\/td>\s*<td data-label="未刷卡">(\d+)<\/td>/g;
  return [...html.matchAll(re)].map((m) => [m[1]!, m[2]!, m[3]!, m[4]!]);
}

describe("the staff 首頁's 今日出勤", () => {
  it('counts what a recount in SQL counts, for the school office and a teacher, never another school’s day', async () => {
    const w = await smsWorld(knex);
    const { readerId } = await createReaderToken(knex, w.schoolId);
    const at = (studentId: number, t: string) =>
      createSwipe(knex, { readerId, schoolId: w.schoolId, studentId, at: t });
    const class403 = await createClass(knex, w.schoolId, { code: '403', name: '四年三班', grade: 4 });
    const pupils = [];
    for (let i = 1; i <= 6; i++)
      pupils.push(await createStudent(knex, i <= 3 ? w.class402 : class403, { seat: i + 1 }));
    await at(w.student, '2026-11-24T07:31'); // arrived
    await at(w.otherChild, '2026-11-24T07:32'); // arrived, and left
    await at(w.otherChild, '2026-11-24T16:05');
    await at(pupils[0]!, '2026-11-24T07:33');
    await createManualEntry(knex, { studentId: pupils[1]!, date: TODAY, time: '09:11', direction: 'arrival' }); // 補登
    await createManualEntry(knex, { studentId: pupils[4]!, date: TODAY, time: '15:00', direction: 'departure' }); // left only
    await at(pupils[3]!, '2026-11-23T07:40'); // yesterday: 未刷卡 today
    // Another school's pupils swiped today: none of it is this school's.
    const other = await createSchool(knex, { name: '市立景美國中', district: '文山區', level: 'junior_high' });
    const otherClass = await createClass(knex, other, { code: '401', name: '四年一班', grade: 4 });
    const { readerId: otherReader } = await createReaderToken(knex, other);
    for (let i = 0; i < 3; i++)
      await createSwipe(knex, {
        readerId: otherReader,
        schoolId: other,
        studentId: await createStudent(knex, otherClass),
        at: '2026-11-24T07:35',
      });

    const recount = async (classIds: number[]) =>
      (
        await knex.raw<{ rows: { name: string; total: string; arrived: string; no_record: string }[] }>(
          `select c.name,
                  (select count(*) from students st where st.class_id = c.id) as total,
                  (select count(*) from students st join attendance_days ad on ad.student_id = st.id
                    where st.class_id = c.id and ad.day = ? and ad.arrival_time is not null) as arrived,
                  (select count(*) from students st where st.class_id = c.id and not exists (
                     select 1 from attendance_days ad where ad.student_id = st.id and ad.day = ?
                        and (ad.arrival_time is not null or ad.departure_time is not null))) as no_record
             from classes c where c.id = any(?::int[]) order by c.school_year desc, c.code`,
          [TODAY, TODAY, classIds],
        )
      ).rows.map((r) => [r.name, String(r.total), String(r.arrived), String(r.no_record)]);

    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const office = summaryRows((await admin.get('/')).text);
    expect(office).toEqual(await recount([w.class401, w.class402, class403]));
    expect(office).toEqual([
      ['四年一班', '2', '2', '0'],
      ['四年二班', '4', '2', '2'],
      ['四年三班', '3', '0', '2'],
    ]);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't402' });
    expect(summaryRows((await teacher.get('/')).text)).toEqual(await recount([w.class402]));
    // The folded statement answers what the readers answer one by one.
    for (const accountId of [w.admin, w.teacher402]) {
      const user = await userFor(knex, accountId);
      const home = await staffHome(knex, user, new Date(NOW), TODAY);
      expect(home.summaries).toEqual(await classSummaries(knex, user, TODAY));
      expect(home.homeExtras.latestAnnouncements).toEqual(await latestAnnouncements(knex, user, new Date(NOW), 5));
    }
  });
});
