/**
 * A city-shaped database by bulk SQL (for the plan test and for EXPLAIN on a bench database): `schools`
 * elementary schools of `studentsPerSchool` students in classes of 30, each class with its teacher, each
 * school with an office account `admin`, a reader and a service period; every student with a guardian and a
 * parent account (login = 學號); ~45 % subscribed with a verified phone (some pending orders, pending and
 * approved cancellations); `days` school days of swipes up to `today` (arrival and departure for ~90 % of the
 * students) with their attendance_days rows, their SMS in the outbox, the daily figures of both, and audit rows.
 *
 * Accounts: admin / t<classId> / <學號>, all with `passwordHash`. Schools are added after the existing ones.
 */
import type { Knex } from 'knex';
import { rebuildFigures } from '../../src/domain/reports/daily-figures.js';
import { addDays, isWeekend } from '../../src/domain/time.js';

export interface CityOptions {
  schools: number;
  studentsPerSchool: number;
  days: number;
  today: string;
  passwordHash: string;
}

export interface City {
  schoolIds: number[];
  days: string[];
}

export async function buildCity(knex: Knex, o: CityOptions): Promise<City> {
  const days: string[] = [];
  for (let d = o.today; days.length < o.days; d = addDays(d, -1)) if (!isWeekend(d)) days.push(d);
  days.reverse();
  await knex.raw(
    `insert into school_levels (code, name, sort_order) values ('elementary', '國小', 1) on conflict (code) do nothing`,
  );
  await knex.raw(`insert into districts (name, sort_order) values ('大安區', 99) on conflict (name) do nothing`);
  const base = Number(
    (await knex.raw<{ rows: { n: number }[] }>('select coalesce(max(id), 0)::int as n from schools')).rows[0]?.n ?? 0,
  );
  const schoolIds = (
    await knex.raw<{ rows: { id: number }[] }>(
      `insert into schools (code, level, name, district_id)
       select (900000 + ? + g)::text, 'elementary', '市立城市' || (? + g) || '國小', (select id from districts where name = '大安區')
       from generate_series(1, ?) g returning id`,
      [base, base, o.schools],
    )
  ).rows.map((r) => r.id);
  const perClass = 30;
  const classes = Math.ceil(o.studentsPerSchool / perClass);
  const ids = `(${schoolIds.join(',')})`;
  await knex.raw(
    `insert into classes (school_id, school_year, grade, code, name)
     select s.id, 115, 1 + (c % 6), (1 + (c % 6))::text || lpad((c / 6 + 1)::text, 2, '0'), '城' || c || '班'
     from schools s, generate_series(0, ? - 1) c where s.id in ${ids}`,
    [classes],
  );
  await knex.raw(
    `insert into accounts (role, school_id, login, display_name, password_hash, must_change_password)
     select 'teacher', c.school_id, 't' || c.id, '導師' || c.id, ?, false from classes c where c.school_id in ${ids}`,
    [o.passwordHash],
  );
  await knex.raw(
    `insert into class_teachers (class_id, account_id)
     select c.id, a.id from classes c join accounts a on a.school_id = c.school_id and a.role = 'teacher' and a.login = 't' || c.id
     where c.school_id in ${ids}`,
  );
  await knex.raw(
    `insert into accounts (role, school_id, login, display_name, password_hash, must_change_password)
     select 'school_admin', s.id, 'admin', '教務處' || s.id, ?, false from schools s where s.id in ${ids}`,
    [o.passwordHash],
  );
  // Students: the i-th of a school sits in the school's class (i / 30) in seat (i % 30) + 1.
  await knex.raw(
    `insert into students (school_id, class_id, student_number, seat_number, name)
     select s.id, cl.id, lpad((s.id * 10000 + i)::text, 9, '0'), (i % ${perClass}) + 1, '學生' || s.id || '-' || i
     from schools s cross join generate_series(0, ? - 1) i
     join lateral (select id from classes where school_id = s.id order by id offset i / ${perClass} limit 1) cl on true
     where s.id in ${ids}`,
    [o.studentsPerSchool],
  );
  await knex.raw(`insert into guardians (name) select '家長' || st.id from students st where st.school_id in ${ids}`);
  await knex.raw(
    `insert into guardian_students (guardian_id, student_id)
     select g.id, st.id from students st join guardians g on g.name = '家長' || st.id where st.school_id in ${ids}`,
  );
  await knex.raw(
    `insert into accounts (role, school_id, login, display_name, guardian_id, password_hash, must_change_password)
     select 'parent', st.school_id, st.student_number, '家長' || st.id, gs.guardian_id, ?, false
     from students st join guardian_students gs on gs.student_id = st.id where st.school_id in ${ids}`,
    [o.passwordHash],
  );
  await knex.raw(
    `insert into service_periods (school_id, name, starts_on, ends_on, arrival_fee, departure_fee)
     select s.id, '115學年度上學期', '2026-08-31', '2027-01-20', 150, 150 from schools s where s.id in ${ids}`,
  );
  // 45 % subscribed (id % 20 < 9): mostly active; id % 20 = 0 cancel_pending, 1 cancelled, 2 pending.
  await knex.raw(
    `insert into subscriptions (student_id, period_id, arrival, departure, status, applicant_name, applied_on, effective_on, cancelled_on)
     select st.id, p.id, true, true,
       case st.id % 20 when 0 then 'cancel_pending' when 1 then 'cancelled' when 2 then 'pending' else 'active' end,
       '家長' || st.id, '2026-09-01',
       case when st.id % 20 = 2 then null else date '2026-09-02' end,
       case when st.id % 20 = 1 then date '2026-11-02' else null end
     from students st join service_periods p on p.school_id = st.school_id
     where st.school_id in ${ids} and st.id % 20 < 9`,
  );
  await knex.raw(
    `insert into review_requests (subscription_id, kind, status, requested_by_name, requested_on, effective_on, decided_at, refund_amount)
     select s.id,
       case when s.status = 'pending' then 'order' else 'cancellation' end,
       case when s.status = 'cancelled' then 'approved' else 'pending' end,
       s.applicant_name, '2026-11-01',
       case when s.status = 'cancelled' then s.cancelled_on end,
       case when s.status = 'cancelled' then now() end,
       case when s.status = 'cancelled' then 80 end
     from subscriptions s join students st on st.id = s.student_id
     where st.school_id in ${ids} and s.status in ('pending', 'cancel_pending', 'cancelled')`,
  );
  await knex.raw(
    `insert into phones (student_id, number, verified_at)
     select s.student_id, '09' || lpad((s.student_id % 100000000)::text, 8, '0'), now()
     from subscriptions s join students st on st.id = s.student_id where st.school_id in ${ids}`,
  );
  await knex.raw(
    `insert into card_readers (school_id, name, token_hash, token_prefix)
     select s.id, '大門', md5('reader' || s.id || random()), 'city' from schools s where s.id in ${ids}`,
  );
  const dayList = `array[${days.map((d) => `'${d}'::date`).join(',')}]`;
  // Swipes: arrival 07:xx and departure 16:xx for the students with id % 10 <> 7 (about 90 %).
  await knex.raw(
    `insert into swipes (reader_id, school_id, event_id, card_uid, swiped_at, swipe_date, received_at, student_id)
     select r.id, st.school_id, 'e' || st.id || '-' || d || '-' || dir, 'C' || st.id,
       (d + case dir when 1 then time '07:20' else time '16:05' end + (st.id % 30) * interval '1 minute') at time zone 'Asia/Taipei',
       d,
       (d + case dir when 1 then time '07:20' else time '16:05' end + (st.id % 30) * interval '1 minute') at time zone 'Asia/Taipei',
       st.id
     from students st join card_readers r on r.school_id = st.school_id
     cross join unnest(${dayList}) d cross join generate_series(1, 2) dir
     where st.school_id in ${ids} and st.id % 10 <> 7`,
  );
  await knex.raw(
    `insert into attendance_days (student_id, day, school_id, arrival_time, arrival_manual, departure_time, departure_manual)
     select st.id, d, st.school_id, to_char(time '07:20' + (st.id % 30) * interval '1 minute', 'HH24:MI'), false,
       to_char(time '16:05' + (st.id % 30) * interval '1 minute', 'HH24:MI'), false
     from students st cross join unnest(${dayList}) d
     where st.school_id in ${ids} and st.id % 10 <> 7`,
  );
  await knex.raw(
    `insert into sms_outbox (school_id, student_id, kind, phone, body, dedupe_key, status, attempts, created_at, sent_at)
     select st.school_id, st.id, k, ph.number, '【臺北市數位學生證】' || st.name || '已到校。',
       k || ':' || st.id || ':' || d || ':' || ph.number,
       case when d = ?::date and k = 'departure' then 'queued' when st.id % 50 = 3 then 'failed' else 'delivered' end,
       1, (d + case k when 'arrival' then time '07:21' else time '16:06' end) at time zone 'Asia/Taipei', now()
     from subscriptions s join students st on st.id = s.student_id join phones ph on ph.student_id = st.id
     cross join unnest(${dayList}) d cross join unnest(array['arrival', 'departure']) k
     where st.school_id in ${ids} and s.status in ('active', 'cancel_pending') and st.id % 10 <> 7`,
    [o.today],
  );
  await knex.raw(
    `insert into audit_log (at, actor_account_id, school_id, action, target_type, target_id)
     select now() - g * interval '1 hour', a.id, a.school_id, 'sign_in', 'account', a.id::text
     from accounts a cross join generate_series(1, 3) g where a.school_id in ${ids} and a.role <> 'parent'`,
  );
  await knex.raw(
    `insert into announcements (school_id, title, body, author_name, published_at)
     select s.id, '公告' || g, '內容' || g, '教務處', now() - g * interval '1 day'
     from schools s cross join generate_series(1, 5) g where s.id in ${ids}`,
  );
  await rebuildFigures(knex, { schoolIds }); // the daily figures of the rows written above, as demo:city does
  return { schoolIds, days };
}
