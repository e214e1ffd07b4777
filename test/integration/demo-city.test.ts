import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { runAdmin, type CliContext } from '../../src/cli/admin.js';
import { buildCity, currentPeriod, chineseNumeral } from '../../src/dev/demo-city.js';
import { loadCurrentUser } from '../../src/domain/accounts/current-user.js';
import { attendanceNoticeBody } from '../../src/domain/sms/attendance-notices.js';
import { smsPerDay, coveragePerDay } from '../../src/domain/reports/reports.js';
import { listPendingReviews } from '../../src/domain/subscriptions/queries.js';
import { seedReference } from '../../src/db/seed.js';
import { refreshDays } from '../../src/domain/attendance/days.js';
import { FixedClock } from '../../src/clock.js';
import { taipeiDate, taipeiTime } from '../../src/domain/time.js';
import { login, signedIn, useTestApp } from '../support/app.js';
import { testDb } from '../support/db.js';
import { createClass, createStudent, passwordHash } from '../support/factories.js';

const NOW = '2026-11-24T01:00:00Z'; // Tuesday 09:00 in Taipei
const { app } = useTestApp({ now: NOW });
const knex = () => testDb().knex;
const n = async (sql: string, b: unknown[] = []) =>
  Number(((await knex().raw(sql, b as never[])) as { rows: { n: number }[] }).rows[0]!.n);

async function city(schools = 2, perSchool = 60) {
  await seedReference(knex(), new FixedClock(NOW));
  return buildCity(knex(), {
    schools,
    studentsPerSchool: perSchool,
    today: '2026-11-24',
    passwordHash: await passwordHash(),
  });
}

function cli(production = false) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    knex: async () => knex(),
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => new Date(NOW),
    production,
  };
  return { ctx, out: () => out.join(''), err: () => err.join('') };
}

describe('demo:city', () => {
  it('builds 2 schools × 60 students whose pages show the counts SQL gives', async () => {
    const r = await city();
    expect(r.schools).toHaveLength(2);
    const [a] = r.schools;
    expect(await n('select count(*)::int as n from students')).toBe(120);
    expect(await n('select count(*)::int as n from classes where school_id = ?', [a!.id])).toBe(2);
    expect(await n(`select count(*)::int as n from accounts where role = 'teacher'`)).toBe(4);
    expect(await n(`select count(*)::int as n from class_teachers`)).toBe(4);
    expect(await n(`select count(*)::int as n from accounts where role = 'parent'`)).toBe(120);
    expect(await n(`select count(*)::int as n from cards`)).toBe(120);
    expect(await n(`select count(distinct password_hash)::int as n from accounts`)).toBe(1);
    // Written school by school, as a city imports its rosters: each school's students have consecutive ids.
    expect(
      await n(
        `select count(*)::int as n from (select school_id from students group by school_id having max(id) - min(id) + 1 <> count(*)) x`,
      ),
    ).toBe(0);
    expect(currentPeriod('2026-11-24')).toEqual({
      name: '115學年度上學期',
      startsOn: '2026-08-31',
      endsOn: '2027-01-20',
    });
    expect(r.days).toHaveLength(20);
    expect(r.days.at(-1)).toBe('2026-11-23');

    // The school office's 到離校簡訊訂購服務 total equals the school's subscriptions.
    const subs = await n(
      'select count(*)::int as n from subscriptions s join students st on st.id = s.student_id where st.school_id = ?',
      [a!.id],
    );
    expect(subs).toBeGreaterThan(15);
    const admin = await signedIn(app, { role: 'school_admin', schoolId: a!.id, login: 'admin' });
    const orders = await admin.get('/sms/subscriptions');
    expect(orders.status).toBe(200);
    expect(orders.text).toContain(`總筆數：${subs}`);
    const pendingCancels = await n(
      `select count(*)::int as n from review_requests r join subscriptions s on s.id = r.subscription_id join students st on st.id = s.student_id
        where st.school_id = ? and r.kind = 'cancellation' and r.status = 'pending'`,
      [a!.id],
    );
    expect(pendingCancels).toBeGreaterThan(0);
    expect((await admin.get('/sms/cancellations')).text).toContain(`總筆數：${pendingCancels}`);

    // A teacher's 審核 shows the pending requests of the class.
    const cls = await knex()('classes').where({ school_id: a!.id }).orderBy('code').first('id', 'code', 'name');
    expect(cls.code).toBe('101');
    expect(cls.name).toBe('一年一班');
    const pending = await n(
      `select count(*)::int as n from review_requests r join subscriptions s on s.id = r.subscription_id join students st on st.id = s.student_id
        where st.class_id = ? and r.status = 'pending'`,
      [cls.id],
    );
    expect(pending).toBeGreaterThan(0);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: a!.id, login: 't101' });
    const reviews = await teacher.get('/reviews');
    expect(reviews.status).toBe(200);
    expect(reviews.text).toContain(`總筆數：${pending}`);
    const teacherId = (await knex()('accounts').where({ school_id: a!.id, login: 't101' }).first('id')).id as number;
    const tu = (await loadCurrentUser(knex(), { accountId: teacherId }))!;
    expect((await listPendingReviews(knex(), tu, { page: 1 })).total).toBe(pending);

    // A parent signs in with the demo password (not forced to change it) and sees the child's attendance.
    const child = await knex()('students').where({ school_id: a!.id }).orderBy('id').first('student_number', 'name');
    const parent = request.agent(app);
    expect((await login(parent, { schoolId: a!.id, login: child.student_number, password: 'demo-1234' })).status).toBe(
      303,
    );
    const home = await parent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain(child.name);

    // 統計報表: the SMS of a month as the report counts them equal the outbox rows of the school.
    const adminId = (await knex()('accounts').where({ school_id: a!.id, role: 'school_admin' }).first('id'))
      .id as number;
    const au = (await loadCurrentUser(knex(), { accountId: adminId }))!;
    const sms = await smsPerDay(knex(), au, { from: '2026-11-01', to: '2026-11-30' });
    const smsSql = await n(
      `select count(*)::int as n from sms_outbox where school_id = ? and status in ('sent','delivered') and created_at >= '2026-11-01T00:00:00+08' and created_at < '2026-12-01T00:00:00+08'`,
      [a!.id],
    );
    expect(smsSql).toBeGreaterThan(100);
    expect(sms.footer?.[2]).toBe(smsSql);
    const failed = await n(`select count(*)::int as n from sms_outbox where status = 'failed'`);
    expect(failed).toBeLessThan((await n(`select count(*)::int as n from sms_outbox`)) / 50);
    const coverage = await coveragePerDay(knex(), au, { from: '2026-11-23', to: '2026-11-23' });
    const swiped = await n(
      `select count(distinct student_id)::int as n from swipes where school_id = ? and swipe_date = '2026-11-23'`,
      [a!.id],
    );
    expect(JSON.stringify(coverage.rows[0])).toContain(String(swiped));
  });

  it('writes swipes, SMS and attendance days that follow the rules', async () => {
    await city();
    // Every SMS is one of an effective subscriber's swipes: its time, its body, one per direction per day per phone.
    const rows = (await knex().raw(`
      select o.kind, o.body, o.created_at, o.status, st.name, s.arrival, s.departure, s.effective_on, s.status as sub_status,
             (select min(w.swiped_at) from swipes w where w.student_id = o.student_id and w.swipe_date = (o.created_at at time zone 'UTC' + interval '8 hours')::date
               and (o.kind = 'arrival' or w.swiped_at > w2.first + interval '10 minutes')) as swipe
      from sms_outbox o join students st on st.id = o.student_id
      join subscriptions s on s.student_id = o.student_id
      cross join lateral (select min(swiped_at) as first from swipes w where w.student_id = o.student_id
                           and w.swipe_date = (o.created_at at time zone 'UTC' + interval '8 hours')::date) w2`)) as {
      rows: {
        kind: 'arrival' | 'departure';
        body: string;
        created_at: Date;
        status: string;
        name: string;
        effective_on: string;
        sub_status: string;
        swipe: Date;
      }[];
    };
    expect(rows.rows.length).toBeGreaterThan(500);
    for (const r of rows.rows) {
      expect(r.swipe?.getTime()).toBe(r.created_at.getTime());
      expect(r.body).toBe(attendanceNoticeBody(r.name, r.kind, taipeiTime(r.created_at)));
      expect(['active', 'cancel_pending']).toContain(r.sub_status);
      expect(r.effective_on <= taipeiDate(r.created_at)).toBe(true);
    }
    // Students without an effective subscription got no SMS; every phone of a subscriber is verified.
    expect(
      await n(
        `select count(*)::int as n from sms_outbox o join subscriptions s on s.student_id = o.student_id where s.status = 'pending'`,
      ),
    ).toBe(0);
    expect(await n(`select count(*)::int as n from phones where verified_at is null`)).toBe(0);
    // Pending orders and cancellations have their open review request; the history says how they got there.
    expect(
      await n(`select count(*)::int as n from subscriptions s where s.status in ('pending','cancel_pending')
                     and not exists (select 1 from review_requests r where r.subscription_id = s.id and r.status = 'pending')`),
    ).toBe(0);
    expect(
      await n(
        `select count(*)::int as n from subscriptions s where s.status = 'active' and exists (select 1 from review_requests r where r.subscription_id = s.id and r.status = 'pending')`,
      ),
    ).toBe(0);
    {
      expect(await n('select count(*)::int as n from attendance_days')).toBe(
        await n('select count(distinct (student_id, swipe_date))::int as n from swipes'),
      );
      expect(
        await n(`select count(*)::int as n from attendance_days d
                 where d.arrival_time <> (select to_char(min(w.swiped_at) at time zone 'UTC' + interval '8 hours', 'HH24:MI') from swipes w where w.student_id = d.student_id and w.swipe_date = d.day)`),
      ).toBe(0);
      // The stored days are exactly what the attendance rules compute from the swipes.
      const snapshot = async () => knex()('attendance_days').orderBy(['student_id', 'day']).select();
      const built = await snapshot();
      expect(built.some((d: { departure_time: string | null }) => d.departure_time === null)).toBe(true);
      await refreshDays(
        knex(),
        built.map((d: { student_id: number; day: string }) => ({ studentId: d.student_id, date: d.day })),
        { departureMinMinutes: 10 },
      );
      expect(await snapshot()).toEqual(built);
    }
  });

  it('refuses a second run (the first city counts as real data) and writes nothing', async () => {
    await city();
    const before = await n('select count(*)::int as n from swipes');
    const c = cli();
    expect(await runAdmin(['demo:city', '--schools', '1', '--students-per-school', '10'], c.ctx)).toBe(65);
    expect(c.err()).toContain('非示範資料');
    expect(await n('select count(*)::int as n from swipes')).toBe(before);
    expect(await n('select count(*)::int as n from students')).toBe(120);
  });

  it('refuses a database with an imported student, in production, and wrong flags (64)', async () => {
    await seedReference(knex(), new FixedClock(NOW));
    const school = (await knex()('schools').orderBy('id').first('id')).id as number;
    await createStudent(knex(), await createClass(knex(), school), { studentNumber: '99990001' });
    const c = cli();
    expect(await runAdmin(['demo:city', '--schools', '1', '--students-per-school', '10'], c.ctx)).toBe(65);
    expect(c.err()).toContain('學生 1 人');
    expect(await n('select count(*)::int as n from students')).toBe(1);
    expect(await n('select count(*)::int as n from card_readers')).toBe(0);

    const p = cli(true);
    expect(await runAdmin(['demo:city', '--schools', '1', '--students-per-school', '10'], p.ctx)).toBe(65);
    expect(p.err()).toContain('production');
    for (const args of [
      ['--schools', '0', '--students-per-school', '10'],
      ['--schools', '2'],
      ['--schools', 'x', '--students-per-school', '10'],
      ['--schools', '1', '--students-per-school', '10', '--what'],
    ]) {
      const w = cli();
      expect(await runAdmin(['demo:city', ...args], w.ctx), args.join(' ')).toBe(64);
    }
    const h = cli();
    expect(await runAdmin(['demo:city', '--help'], h.ctx)).toBe(0);
    expect(h.out()).toContain('demo-1234');
    expect(h.out()).toContain('真實資料');
  });

  it('--dry-run reports what it would build and writes nothing; names classes in zh-TW', async () => {
    await seedReference(knex(), new FixedClock(NOW));
    const c = cli();
    expect(await runAdmin(['demo:city', '--schools', '2', '--students-per-school', '60', '--dry-run'], c.ctx)).toBe(0);
    expect(c.out()).toContain('[dry run，未寫入]');
    expect(c.out()).toContain('115學年度上學期');
    expect(await n('select count(*)::int as n from classes')).toBe(0);
    expect(await n('select count(*)::int as n from accounts')).toBe(0);
    expect([1, 10, 11, 12, 20, 21].map(chineseNumeral)).toEqual(['一', '十', '十一', '十二', '二十', '二十一']);
  });
});
