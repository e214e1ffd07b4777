/**
 * Reports count what happened, with the same numbers as a recount from the raw rows:
 * 各班訂購狀態 on D and D+1 of a cancellation, 已到期 vs 已註銷, 每日刷卡涵蓋率's denominator (students enrolled on
 * that day), and the SMS and coverage figures recounted from swipes, 補登 and outbox rows.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { createClass, createPeriod, createStudent, createSubscription } from '../support/factories.js';
import { createRequest, smsWorld, userFor } from '../support/subscriptions-factories.js';
import { createOutbox } from '../support/sms-factories.js';
import { createManualEntry, createReaderToken, createSwipe } from '../support/attendance-factories.js';
import { buildReport } from '../../src/domain/reports/reports.js';
import { addDays, taipeiDate } from '../../src/domain/time.js';
import { reportRows } from '../support/pages.js';

const { app, clock } = useTestApp();
const knex = () => testDb().knex;

const totalOf = (html: string) => /總筆數：(\d+)/.exec(html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '))?.[1];

// 班級, 生效, 審核中, 註銷審核中, 已註銷, 已退回, 已取消, 已到期, 合計
describe('各班訂購狀態', () => {
  it('a cancellation approved on D still counts as 生效 on D and as 已註銷 from D+1', async () => {
    const w = await smsWorld(knex());
    const req = await createRequest(knex(), w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-24' });
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const before = reportRows((await admin.get('/reports?from=2026-11-01&to=2026-11-24')).text, 'subscriptions');
    expect(before[0]).toEqual(['四年一班', '0', '0', '1', '0', '0', '0', '0', '1']);

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await postForm(teacher, '/reviews', `/reviews/${req}/approval`, {})).status).toBe(303);
    expect(await knex()('subscriptions').where({ id: w.subscriptionId }).first('status', 'cancelled_on')).toEqual({
      status: 'cancelled',
      cancelled_on: '2026-11-25',
    });
    const onD = reportRows((await admin.get('/reports?from=2026-11-01&to=2026-11-24')).text, 'subscriptions');
    expect(onD[0]).toEqual(['四年一班', '1', '0', '0', '0', '0', '0', '0', '1']);
    expect(onD[1]).toEqual(['四年二班', '1', '0', '0', '0', '0', '0', '0', '1']);

    clock.set('2026-11-25T01:00:00Z');
    const nextDay = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const onD1 = reportRows((await nextDay.get('/reports?from=2026-11-01&to=2026-11-25')).text, 'subscriptions');
    expect(onD1[0]).toEqual(['四年一班', '0', '0', '0', '1', '0', '0', '0', '1']);
    expect(onD1[2]).toEqual(['合計', '1', '0', '0', '1', '0', '0', '0', '2']);
  });

  it('a subscription that ran to its period’s end is 已到期 — also when its cancellation took effect only after the end — and 已註銷 only when it was stopped', async () => {
    const w = await smsWorld(knex());
    const short = await createPeriod(knex(), w.schoolId, {
      name: '短期',
      startsOn: '2026-09-01',
      endsOn: '2026-11-10',
    });
    await createSubscription(knex(), w.student, short); // ran out → 已到期
    await createSubscription(knex(), w.otherChild, short, { status: 'cancelled', cancelledOn: '2026-11-11' }); // approved on the last day
    const stopped = await createStudent(knex(), w.class401, { name: '林小強', studentNumber: '11301003', seat: 3 });
    await createSubscription(knex(), stopped, short, { status: 'cancelled', cancelledOn: '2026-11-05' }); // stopped early
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const rows = reportRows((await admin.get('/reports?from=2026-11-01&to=2026-11-24')).text, 'subscriptions');
    // 401: 王小明's term subscription 生效; short: 王小明 and 陳小美 已到期, 林小強 已註銷.
    expect(rows[0]).toEqual(['四年一班', '1', '0', '0', '1', '0', '0', '2', '4']);
    // The order list says the same, and its 狀態 filter finds each row under that label.
    expect(totalOf((await admin.get('/sms/subscriptions?status=expired')).text)).toBe('2');
    expect(totalOf((await admin.get('/sms/subscriptions?status=cancelled')).text)).toBe('1');
  });
});

describe('每日刷卡涵蓋率', () => {
  it('divides by the students enrolled on that day: those of a class of that day’s 學年度', async () => {
    const w = await smsWorld(knex()); // 401: 王小明, 陳小美; 402: 李小華 (all 115學年度)
    const past = await createClass(knex(), w.schoolId, { code: '601', name: '六年一班', grade: 6, schoolYear: 114 });
    const next = await createClass(knex(), w.schoolId, { code: '101', name: '一年一班', grade: 1, schoolYear: 116 });
    const graduate = await createStudent(knex(), past, { name: '畢業生', studentNumber: '11401001', seat: 1 });
    const newcomer = await createStudent(knex(), next, { name: '新生', studentNumber: '11601001', seat: 1 });
    const { readerId } = await createReaderToken(knex(), w.schoolId);
    const swipe = (studentId: number, at: string) =>
      createSwipe(knex(), { readerId, schoolId: w.schoolId, studentId, at });
    await swipe(w.student, '2026-11-23T07:40');
    await swipe(newcomer, '2026-11-23T07:41'); // not enrolled yet
    await swipe(graduate, '2026-07-30T07:40'); // 114學年度
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const nov = reportRows((await admin.get('/reports?from=2026-11-23&to=2026-11-24')).text, 'coverage');
    expect(nov[0]).toEqual(['2026-11-23', '星期一', '1', '3', '33.3%']);
    // Across the school year's change: 114學年度 until 07-31 (one student), 115 from 08-01 (three).
    const summer = reportRows((await admin.get('/reports?from=2026-07-30&to=2026-08-03')).text, 'coverage');
    expect(summer).toEqual([
      ['2026-07-30', '星期四', '1', '1', '100.0%'],
      ['2026-07-31', '星期五', '0', '1', '0.0%'],
      ['2026-08-03', '星期一', '0', '3', '0.0%'],
    ]);
    // A teacher's denominator is their class.
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(reportRows((await teacher.get('/reports?from=2026-11-23&to=2026-11-23')).text, 'coverage')[0]).toEqual([
      '2026-11-23',
      '星期一',
      '1',
      '2',
      '50.0%',
    ]);
  });
});

describe('daily figures equal a recount from the raw rows', () => {
  it('每日簡訊發送 and 每日刷卡涵蓋率 match the swipes, 補登 and outbox rows counted one by one', async () => {
    const w = await smsWorld(knex());
    const other = await smsWorld(knex()); // another school: never counted
    const students = [w.student, w.otherChild, w.child402];
    for (let i = 0; i < 6; i++) students.push(await createStudent(knex(), w.class402, { seat: 10 + i }));
    const { readerId: reader } = await createReaderToken(knex(), w.schoolId);
    const { readerId: otherReader } = await createReaderToken(knex(), other.schoolId);
    const statuses = ['queued', 'sending', 'sent', 'delivered', 'failed'];
    let n = 0;
    for (let d = 0; d < 10; d++) {
      const day = addDays('2026-11-09', d);
      for (const [i, st] of students.entries()) {
        n++;
        if ((i + d) % 3 === 0) continue; // 未刷卡
        if ((i + d) % 4 === 1)
          await createManualEntry(knex(), { studentId: st, date: day, direction: 'arrival', time: '08:05' });
        else
          await createSwipe(knex(), {
            readerId: reader,
            schoolId: w.schoolId,
            studentId: st,
            at: `${day}T07:${String(10 + i).padStart(2, '0')}`,
          });
        if ((i + d) % 2 === 0)
          await createSwipe(knex(), {
            readerId: reader,
            schoolId: w.schoolId,
            studentId: st,
            at: `${day}T16:${String(10 + i).padStart(2, '0')}`,
          });
        // Outbox rows around Taipei midnight too (16:00Z is 00:00 of the next Taipei day).
        await createOutbox(knex(), {
          schoolId: w.schoolId,
          studentId: st,
          status: statuses[n % 5]!,
          createdAt: `${day}T${n % 7 === 0 ? '16:30' : '01:00'}:00Z`,
        });
      }
      await createSwipe(knex(), {
        readerId: otherReader,
        schoolId: other.schoolId,
        studentId: other.student,
        at: `${day}T07:30`,
      });
      await createOutbox(knex(), {
        schoolId: other.schoolId,
        studentId: other.student,
        status: 'delivered',
        createdAt: `${day}T01:00:00Z`,
      });
    }
    const range = { from: '2026-11-08', to: '2026-11-20' };
    const admin = await userFor(knex(), w.admin);

    // Recount coverage: distinct students with a swipe or a 補登 per day (all enrolled: 115學年度 classes).
    const swipes = (await knex()('swipes').where('school_id', w.schoolId).select('student_id', 'swipe_date')) as {
      student_id: number;
      swipe_date: string;
    }[];
    const manual = (await knex()('manual_entries')
      .whereIn('student_id', students)
      .select('student_id', 'entry_date')) as { student_id: number; entry_date: string }[];
    const perDay = new Map<string, Set<number>>();
    for (const r of [
      ...swipes.map((s) => [s.swipe_date, s.student_id] as const),
      ...manual.map((m) => [m.entry_date, m.student_id] as const),
    ]) {
      if (r[0] < range.from || r[0] > range.to) continue;
      perDay.set(r[0], (perDay.get(r[0]) ?? new Set()).add(r[1]));
    }
    const coverage = await buildReport(knex(), admin, 'coverage', range, '2026-11-24');
    expect(coverage.rows.length).toBeGreaterThan(5);
    for (const row of coverage.rows) {
      expect([row[0], row[2], row[3]]).toEqual([row[0], perDay.get(String(row[0]))?.size ?? 0, students.length]);
    }
    expect(coverage.rows.reduce((a, r) => a + Number(r[2]), 0)).toBe(
      [...perDay.values()].reduce((a, s) => a + s.size, 0),
    );

    // Recount SMS: the school's outbox rows by Taipei day of creation and status.
    const outbox = (await knex()('sms_outbox').where('school_id', w.schoolId).select('status', 'created_at')) as {
      status: string;
      created_at: Date;
    }[];
    const sms = await buildReport(knex(), admin, 'sms', range, '2026-11-24');
    for (const row of sms.rows) {
      const of = outbox.filter((o) => taipeiDate(o.created_at) === row[0]);
      const c = (...s: string[]) => of.filter((o) => s.includes(o.status)).length;
      expect(row.slice(2)).toEqual([c('sent', 'delivered'), c('delivered'), c('failed'), c('queued', 'sending')]);
    }
    expect(sms.footer?.slice(2)).toEqual([
      outbox.filter((o) => ['sent', 'delivered'].includes(o.status) && taipeiDate(o.created_at) <= range.to).length,
      outbox.filter((o) => o.status === 'delivered' && taipeiDate(o.created_at) <= range.to).length,
      outbox.filter((o) => o.status === 'failed' && taipeiDate(o.created_at) <= range.to).length,
      outbox.filter((o) => ['queued', 'sending'].includes(o.status) && taipeiDate(o.created_at) <= range.to).length,
    ]);
  });
});

describe('每週訂購與註銷申請 and 退費統計 read the requests by their school', () => {
  it('equal the review requests counted one by one through their subscription and student, for the office and a teacher', async () => {
    const w = await smsWorld(knex());
    const other = await smsWorld(knex()); // another school: never counted
    const subs: { id: number; classId: number }[] = [
      { id: w.subscriptionId, classId: w.class401 },
      { id: w.sub402, classId: w.class402 },
    ];
    for (let i = 0; i < 6; i++) {
      const cls = i % 2 === 0 ? w.class401 : w.class402;
      const st = await createStudent(knex(), cls, { seat: 20 + i });
      subs.push({ id: await createSubscription(knex(), st, w.periodId, {}), classId: cls });
    }
    const kinds = ['order', 'cancellation'] as const;
    const statuses = ['approved', 'rejected', 'withdrawn', 'approved'];
    let n = 0;
    for (const s of subs)
      for (let d = 0; d < 5; d++) {
        n++;
        const kind = kinds[n % 2]!;
        const status = statuses[n % 4]!;
        const id = await createRequest(knex(), s.id, { kind, status, requestedOn: addDays('2026-10-27', d * 6 + n) });
        if (kind === 'cancellation' && status === 'approved')
          await knex()('review_requests')
            .where({ id })
            .update({
              effective_on: addDays('2026-10-30', d * 5 + (n % 7)),
              refund_amount: 20 * (1 + (n % 4)),
              refund_paid_on: n % 3 === 0 ? '2026-11-25' : null,
            });
      }
    for (let d = 0; d < 4; d++)
      await createRequest(knex(), other.subscriptionId, {
        kind: 'order',
        status: 'approved',
        requestedOn: addDays('2026-11-02', d),
      });

    // The trigger keeps each request's school: its subscription's student's.
    const wrong = await knex()('review_requests as r')
      .join('subscriptions as s', 's.id', 'r.subscription_id')
      .join('students as st', 'st.id', 's.student_id')
      .whereRaw('r.school_id <> st.school_id')
      .count({ n: '*' })
      .first();
    expect(Number(wrong?.n)).toBe(0);

    const range = { from: '2026-11-03', to: '2026-12-01' };
    const all = (await knex()('review_requests as r')
      .join('subscriptions as s', 's.id', 'r.subscription_id')
      .join('students as st', 'st.id', 's.student_id')
      .select('r.*', 'st.class_id', 'st.school_id as student_school')) as {
      kind: string;
      status: string;
      requested_on: string;
      effective_on: string | null;
      refund_amount: number | null;
      refund_paid_on: string | null;
      class_id: number;
      student_school: number;
    }[];
    for (const [user, classes] of [
      [await userFor(knex(), w.admin), [w.class401, w.class402]],
      [await userFor(knex(), w.teacher401), [w.class401]],
    ] as const) {
      const mine = all.filter((r) => r.student_school === w.schoolId && classes.includes(r.class_id));
      const requests = await buildReport(knex(), user, 'requests', range, '2026-12-01');
      const inRange = mine.filter((r) => r.requested_on >= range.from && r.requested_on <= range.to);
      expect(inRange.length).toBeGreaterThan(5);
      for (const row of requests.rows) {
        const [from, to] = [String(row[0]).slice(0, 10), addDays(String(row[0]).slice(0, 10), 6)];
        const week = inRange.filter((r) => r.requested_on >= from && r.requested_on <= to);
        const c = (kind: string, approved: boolean) =>
          week.filter((r) => r.kind === kind && (!approved || r.status === 'approved')).length;
        expect(row.slice(1)).toEqual([
          c('order', false),
          c('order', true),
          c('cancellation', false),
          c('cancellation', true),
        ]);
      }
      expect(requests.footer?.[1]).toBe(inRange.filter((r) => r.kind === 'order').length);

      const refunds = await buildReport(knex(), user, 'refunds', range, '2026-12-01');
      const due = mine.filter(
        (r) =>
          r.kind === 'cancellation' &&
          r.status === 'approved' &&
          (r.refund_amount ?? 0) > 0 &&
          r.effective_on !== null &&
          r.effective_on >= range.from &&
          r.effective_on <= range.to,
      );
      expect(due.length).toBeGreaterThan(1);
      const sum = (rs: typeof due) => rs.reduce((a, r) => a + (r.refund_amount ?? 0), 0);
      expect(refunds.rows.length).toBe(classes.length);
      for (const [i, cls] of classes.entries()) {
        const of = due.filter((r) => r.class_id === cls);
        const paid = of.filter((r) => r.refund_paid_on !== null);
        expect(refunds.rows[i]!.slice(1)).toEqual([of.length, sum(of), paid.length, sum(paid), sum(of) - sum(paid)]);
      }
    }
  });
});
