/**
 * `demo:city` — a realistic city for load tests, built by bulk SQL (INSERT … SELECT over generate_series and temp
 * tables; never one round trip per row) on the reference schools already loaded.
 *
 * Per school: classes of ~30 with a homeroom teacher each (login `t<班級代碼>`), a school office (`admin`),
 * students with a guardian and a parent account (login = 學號), a card each, one gate reader, the current service
 * period; ~45 % subscribed (到校SMS+離校SMS, approved order, verified phone; a few of them with a pending
 * cancellation), ~3 % with a pending order; 20 school days of swipes before today (arrival 07:20–07:59, departure
 * 16:00–16:09, a few 未刷卡) with the SMS those swipes sent to subscribers (delivered, some sent, a few failed)
 * and the materialised attendance days; a bureau announcement and one per school.
 *
 * Every account's password is the demo password (`demo-1234`, not forced to change), hashed with bcrypt at the
 * real cost ONCE and that one hash reused for every account.
 *
 * "Real data": the city runs only on a database whose students are all the demo seed's (cards `DEMO-…`) and
 * whose accounts are all at the demo seed's schools — an empty one, or one with the demo data. Anything else
 * (a school's imported roster, or a city built before) is refused and nothing is written.
 */
import type { Knex } from 'knex';
import { rebuildFigures } from '../domain/reports/daily-figures.js';
import { SMS_PREFIX } from '../domain/sms/attendance-notices.js';
import { addDays, isWeekend, schoolYearOf } from '../domain/time.js';
import { AdminError } from '../domain/admin/schools.js';
import { inEffectOn } from '../domain/subscriptions/lifecycle-sql.js';
import { DEFAULT_DISMISSAL_START } from '../domain/attendance/rules.js';

export const CLASS_SIZE = 30;
export const SCHOOL_DAYS = 20;
export const CITY_CARD_PREFIX = 'CITY-';
export const CITY_READER_NAME = '校門口讀卡機';

export interface CityOptions {
  schools: number;
  studentsPerSchool: number;
  /** The app's today (Asia/Taipei). */
  today: string;
  /** bcrypt hash of the demo password, computed once by the caller. */
  passwordHash: string;
  dryRun?: boolean;
  /** Called after each step (for a progress line). */
  progress?: (step: CityStep) => void;
}

export interface CityStep {
  name: string;
  rows: number;
  ms: number;
}

export interface CityReport {
  schools: { id: number; code: string; level: string; name: string }[];
  period: { name: string; startsOn: string; endsOn: string };
  days: string[];
  steps: CityStep[];
  ms: number;
}

/** Why this database may not get a city (it holds real data), or undefined. */
export async function realDataProblem(knex: Knex): Promise<string | undefined> {
  const foreign = await knex.raw<{ rows: { students: number; accounts: number }[] }>(`
    with demo_schools as (
      select distinct st.school_id from students st
      where exists (select 1 from cards cd where cd.student_id = st.id and cd.card_uid like 'DEMO-%'))
    select
      (select count(*)::int from students st
        where not exists (select 1 from cards cd where cd.student_id = st.id and cd.card_uid like 'DEMO-%')) as students,
      (select count(*)::int from accounts a where a.school_id not in (select school_id from demo_schools)) as accounts`);
  const r = foreign.rows[0]!;
  if (r.students > 0 || r.accounts > 0)
    return `此資料庫已有非示範資料（學生 ${r.students} 人、帳號 ${r.accounts} 個不屬於示範資料；先前建立的城市資料也算）：demo:city 只在空的或只有示範資料的資料庫執行，未寫入任何資料`;
  return undefined;
}

const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
/** 1 → 一, 12 → 十二, 21 → 二十一 (class names: 四年一班, 十年十二班). */
export function chineseNumeral(n: number): string {
  if (n <= 10) return NUMERALS[n - 1]!;
  if (n < 20) return `十${NUMERALS[n - 11]}`;
  return `${NUMERALS[Math.floor(n / 10) - 1]}十${n % 10 === 0 ? '' : NUMERALS[(n % 10) - 1]}`;
}

/** The current semester's service period, like the demo's 115學年度上學期 (2026-08-31 ~ 2027-01-20). */
export function currentPeriod(today: string): { name: string; startsOn: string; endsOn: string } {
  const year = schoolYearOf(today);
  const ad = year + 1911;
  const month = Number(today.slice(5, 7));
  const first = month >= 8 || month === 1;
  return first
    ? { name: `${year}學年度上學期`, startsOn: `${ad}-08-31`, endsOn: `${ad + 1}-01-20` }
    : { name: `${year}學年度下學期`, startsOn: `${ad + 1}-02-11`, endsOn: `${ad + 1}-06-30` };
}

/** The weekdays before today, most recent first (per-school holidays are left out in SQL). */
export function recentWeekdays(today: string, n: number): string[] {
  const days: string[] = [];
  for (let d = addDays(today, -1); days.length < n; d = addDays(d, -1)) if (!isWeekend(d)) days.push(d);
  return days;
}

export const SURNAMES = [
  '王',
  '陳',
  '林',
  '黃',
  '張',
  '李',
  '吳',
  '劉',
  '蔡',
  '楊',
  '許',
  '鄭',
  '謝',
  '郭',
  '洪',
  '曾',
  '邱',
  '廖',
  '賴',
  '周',
];
export const GIVEN = [
  '小明',
  '小美',
  '小華',
  '小安',
  '子涵',
  '宥廷',
  '品妍',
  '承恩',
  '詠晴',
  '柏宇',
  '語彤',
  '冠廷',
  '芷瑜',
  '宇軒',
  '思妤',
  '俊傑',
  '佳穎',
  '家豪',
  '欣怡',
  '彥廷',
  '詩涵',
  '建宏',
  '雅婷',
  '志偉',
];
export const ADULT = ['大明', '美玲', '志明', '淑芬', '建國', '雅惠', '俊宏', '麗華', '文雄', '秀英', '國華', '惠君'];

/** Build the city in one transaction (or, with dryRun, only check and count). */
export async function buildCity(knex: Knex, o: CityOptions): Promise<CityReport> {
  const started = Date.now();
  const problem = await realDataProblem(knex);
  if (problem) throw new AdminError(problem);
  const available = (
    await knex.raw<{ rows: { id: number; code: string; level: string; name: string }[] }>(`
    select id, code, level, name from (
      select s.*, row_number() over (partition by s.level order by s.id) as k from schools s
      where not exists (select 1 from classes c where c.school_id = s.id)
        and not exists (select 1 from accounts a where a.school_id = s.id)) x
    order by k, case level when 'elementary' then 1 when 'junior_high' then 2 when 'senior_high' then 3 else 4 end, id`)
  ).rows;
  if (available.length === 0)
    throw new AdminError('沒有可用的學校：請先載入參考資料（npm run seed -- --reference-only）');
  if (o.schools > available.length)
    throw new AdminError(
      `只有 ${available.length} 所學校可用（不含示範資料的學校），--schools 最多 ${available.length}`,
    );
  const schools = available.slice(0, o.schools);
  const period = currentPeriod(o.today);
  const days = recentWeekdays(o.today, SCHOOL_DAYS).sort();
  const report: CityReport = { schools, period, days, steps: [], ms: 0 };
  if (o.dryRun) {
    report.ms = Date.now() - started;
    return report;
  }
  const year = schoolYearOf(o.today);
  const perSchool = o.studentsPerSchool;
  const classesPerSchool = Math.ceil(perSchool / CLASS_SIZE);
  const numerals = Array.from({ length: 99 }, (_, i) => chineseNumeral(i + 1));

  await knex.transaction(async (trx) => {
    await trx.raw('set local statement_timeout = 0');
    const step = async (name: string, sql: string, bindings: readonly unknown[] = []) => {
      const t = Date.now();
      const r = (await trx.raw(sql, bindings as Knex.RawBinding[])) as { rowCount?: number };
      const s = { name, rows: r.rowCount ?? 0, ms: Date.now() - t };
      if (!name.startsWith('_')) {
        report.steps.push(s);
        o.progress?.(s);
      }
    };

    // The schools, with the grades their level teaches.
    await step(
      '_schools',
      `create temp table city_school on commit drop as
       select s.id as school_id, s.level, regexp_replace(s.name, '^市立', '') as short, ord as n,
              case s.level when 'elementary' then 1 when 'junior_high' then 7 else 10 end as min_grade,
              case s.level when 'elementary' then 6 else 3 end as grades
       from unnest(?::int[]) with ordinality as u(id, ord) join schools s on s.id = u.id`,
      [schools.map((s) => s.id)],
    );
    // Classes: k = 0 … C-1; grade cycles through the level's grades; code 401, 402, …; name 四年一班.
    await step(
      '_class plan',
      `create temp table city_class on commit drop as
       select nextval(pg_get_serial_sequence('classes', 'id'))::int as id, cs.school_id, k,
              cs.min_grade + k % cs.grades as grade,
              (cs.min_grade + k % cs.grades)::text || lpad((k / cs.grades + 1)::text, 2, '0') as code,
              (?::text[])[cs.min_grade + k % cs.grades] || '年' || (?::text[])[k / cs.grades + 1] || '班' as name,
              (?::text[])[1 + (k + cs.n) % ?] as teacher_surname
       from city_school cs cross join generate_series(0, ? - 1) as k`,
      [numerals, numerals, SURNAMES, SURNAMES.length, classesPerSchool],
    );
    await step(
      '班級 classes',
      `insert into classes (id, school_id, school_year, grade, code, name) select id, school_id, ?, grade, code, name from city_class`,
      [year],
    );
    await step(
      '教師帳號 teachers',
      `insert into accounts (role, school_id, login, display_name, password_hash, must_change_password)
       select 'teacher', school_id, 't' || code, teacher_surname || '老師', ?, false from city_class`,
      [o.passwordHash],
    );
    await step(
      '導師 homerooms',
      `insert into class_teachers (class_id, account_id)
       select cc.id, a.id from city_class cc join accounts a on a.school_id = cc.school_id and a.role = 'teacher' and a.login = 't' || cc.code`,
    );
    await step(
      '學校管理者 school admins',
      `insert into accounts (role, school_id, login, display_name, password_hash, must_change_password)
       select 'school_admin', school_id, 'admin', short || '教務處', ?, false from city_school`,
      [o.passwordHash],
    );
    // Students are written school by school, as a real city imports its rosters (one school's rows lie together
    // on disk instead of on a page per student): ids drawn in (school, s) order, every per-student insert in id order.
    // Students: s = 0 … P-1 in class s % C at seat s / C + 1; 學號 <學年度><5 digits>. Each gets a guardian id,
    // a subscription plan (bucket: 0–39 active, 40–44 active with a pending cancellation, 45–47 pending order).
    await step(
      '_student plan',
      `create temp table city_student on commit drop as
       select nextval(pg_get_serial_sequence('students', 'id'))::int as id,
              nextval(pg_get_serial_sequence('guardians', 'id'))::int as guardian_id, x.*
       from (
         select cs.school_id, cc.id as class_id, s, ?::text || lpad((s + 1)::text, 5, '0') as number, s / ? + 1 as seat,
                (?::text[])[1 + (s * 7 + cs.n) % ?] as surname,
                (?::text[])[1 + (s * 13 + cs.n * 3) % ?] as given,
                (?::text[])[1 + (s * 5 + cs.n) % ?] as adult,
                (s * 7 + cs.n * 13) % 100 as bucket
         from city_school cs cross join generate_series(0, ? - 1) as s
         join city_class cc on cc.school_id = cs.school_id and cc.k = s % ?
         order by cs.n, s
       ) x`,
      [
        String(year),
        classesPerSchool,
        SURNAMES,
        SURNAMES.length,
        GIVEN,
        GIVEN.length,
        ADULT,
        ADULT.length,
        perSchool,
        classesPerSchool,
      ],
    );
    await trx.raw('analyze city_class');
    await trx.raw('analyze city_student');
    await step(
      '學生 students',
      `insert into students (id, school_id, class_id, student_number, seat_number, name) select id, school_id, class_id, number, seat, surname || given from city_student order by id`,
    );
    await step(
      '家長 guardians',
      `insert into guardians (id, name) select guardian_id, surname || adult from city_student order by guardian_id`,
    );
    await step(
      '_guardian links',
      `insert into guardian_students (guardian_id, student_id, relationship) select guardian_id, id, case when s % 2 = 0 then '母' else '父' end from city_student order by id`,
    );
    await step(
      '家長帳號 parent accounts',
      `insert into accounts (role, school_id, login, display_name, guardian_id, password_hash, must_change_password)
       select 'parent', school_id, number, surname || adult, guardian_id, ?, false from city_student order by id`,
      [o.passwordHash],
    );
    await step(
      '卡片 cards',
      `insert into cards (card_uid, student_id, valid_from) select ? || lpad(id::text, 9, '0'), id, ?::date from city_student order by id`,
      [CITY_CARD_PREFIX, `${year + 1911}-08-01`],
    );
    await step(
      '讀卡機 readers',
      `insert into card_readers (school_id, name, token_hash, token_prefix)
       select school_id, ?, encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 'city' || lpad(n::text, 4, '0')
       from city_school`,
      [CITY_READER_NAME],
    );
    await step(
      '簡訊服務期間 periods',
      `insert into service_periods (school_id, name, starts_on, ends_on, arrival_fee, departure_fee) select school_id, ?, ?, ?, 150, 150 from city_school`,
      [period.name, period.startsOn, period.endsOn],
    );

    // Subscriptions. Active ones were ordered before the period began (approved the next day, effective the
    // day after); pending orders and cancellations were asked for in the last few days.
    await step(
      '_subscription plan',
      `create temp table city_sub on commit drop as
       select nextval(pg_get_serial_sequence('subscriptions', 'id'))::int as id, st.id as student_id, st.class_id, st.school_id,
              p.id as period_id, st.bucket,
              case when st.bucket < 40 then 'active' when st.bucket < 45 then 'cancel_pending' else 'pending' end as status,
              case when st.s % 5 = 0 then null else a.id end as applicant_id,
              case when st.s % 5 = 0 then '系統管理員' else g.name end as applicant_name,
              a.id as parent_id, g.name as parent_name,
              case when st.bucket < 45 then p.starts_on - 14 + st.s % 10 else ?::date - st.s % 4 end as applied_on,
              ?::date - st.s % 3 as cancel_requested_on
       from city_student st
       join service_periods p on p.school_id = st.school_id and p.name = ?
       join accounts a on a.role = 'parent' and a.guardian_id = st.guardian_id
       join guardians g on g.id = st.guardian_id
       where st.bucket < 48`,
      [o.today, o.today, period.name],
    );
    await step(
      '簡訊訂購 subscriptions',
      `insert into subscriptions (id, student_id, period_id, arrival, departure, status, applicant_account_id, applicant_name, applied_on, effective_on)
       select id, student_id, period_id, true, true, status, applicant_id, applicant_name, applied_on,
              case when status = 'pending' then null else applied_on + 2 end
       from city_sub`,
    );
    await step(
      '審核 review requests',
      `insert into review_requests (subscription_id, kind, status, requested_by_account_id, requested_by_name, requested_on, requested_at,
                                    decided_by_account_id, decided_at, effective_on)
       select cs.id, 'order', case when cs.status = 'pending' then 'pending' else 'approved' end, cs.applicant_id, cs.applicant_name, cs.applied_on,
              (cs.applied_on::text || ' 10:00+08')::timestamptz,
              case when cs.status = 'pending' then null else ct.account_id end,
              case when cs.status = 'pending' then null else ((cs.applied_on + 1)::text || ' 08:15+08')::timestamptz end,
              case when cs.status = 'pending' then null else cs.applied_on + 2 end
       from city_sub cs join class_teachers ct on ct.class_id = cs.class_id
       union all
       select cs.id, 'cancellation', 'pending', cs.parent_id, cs.parent_name, cs.cancel_requested_on,
              (cs.cancel_requested_on::text || ' 19:30+08')::timestamptz, null, null, null
       from city_sub cs where cs.status = 'cancel_pending'`,
    );
    await step(
      '_history',
      `insert into subscription_events (subscription_id, request_id, event, from_status, to_status, actor_account_id, actor_role, actor_name, created_at)
       select r.subscription_id, r.id, 'order', null, 'pending', r.requested_by_account_id,
              case when r.requested_by_account_id is null then 'system' else 'parent' end, r.requested_by_name, r.requested_at
       from review_requests r join city_sub cs on cs.id = r.subscription_id where r.kind = 'order'
       union all
       select r.subscription_id, r.id, 'approve', 'pending', 'active', r.decided_by_account_id, 'teacher', a.display_name, r.decided_at
       from review_requests r join city_sub cs on cs.id = r.subscription_id join accounts a on a.id = r.decided_by_account_id
       where r.kind = 'order' and r.status = 'approved'
       union all
       select r.subscription_id, r.id, 'cancel', 'active', 'cancel_pending', r.requested_by_account_id, 'parent', r.requested_by_name, r.requested_at
       from review_requests r join city_sub cs on cs.id = r.subscription_id where r.kind = 'cancellation'`,
    );
    await step(
      '已驗證手機 verified phones',
      `insert into phones (student_id, registered_by_account_id, number, verified_at)
       select student_id, parent_id, '09' || lpad(((student_id::bigint * 7919) % 100000000)::text, 8, '0'), (applied_on::text || ' 10:05+08')::timestamptz
       from city_sub`,
    );

    // 20 school days: each student-day's arrival (97 %) and departure (96 % of those), from hashes of (student,
    // day) so a rebuild gives the same city. Times are seconds of the Taipei day.
    await step(
      '_days',
      `create temp table city_day on commit drop as
       select st.id as student_id, st.school_id, r.id as reader_id, d.day, c.card_uid, st.surname || st.given as name,
              case when abs(hashtext(st.id || 'a' || d.day)) % 100 >= 3 then 26400 + abs(hashtext(st.id || 't' || d.day)) % 2400 end as arr,
              case when abs(hashtext(st.id || 'd' || d.day)) % 100 >= 4 then 57600 + abs(hashtext(st.id || 'u' || d.day)) % 600 end as dep
       from city_student st
       join card_readers r on r.school_id = st.school_id and r.name = ?
       join cards c on c.student_id = st.id
       cross join unnest(?::date[]) as d(day)
       where not exists (select 1 from school_holidays h where h.school_id = st.school_id and h.holiday_on = d.day)`,
      [CITY_READER_NAME, days],
    );
    await trx.raw(`update city_day set dep = null where arr is null`);
    // Temp tables have no statistics until analysed: without them the big joins below get nested-loop plans.
    await trx.raw('analyze city_day');
    await trx.raw('analyze city_sub');
    const at = (col: string) =>
      `(day::text || ' ' || (make_time(${col} / 3600, ${col} / 60 % 60, ${col} % 60))::text || '+08')::timestamptz`;
    await step(
      '刷卡 swipes',
      `insert into swipes (reader_id, school_id, event_id, card_uid, swiped_at, swipe_date, received_at, student_id)
       select reader_id, school_id, 'city-' || student_id || '-' || day || '-a', card_uid, ${at('arr')}, day, ${at('arr')} + interval '2 seconds', student_id
       from city_day where arr is not null
       union all
       select reader_id, school_id, 'city-' || student_id || '-' || day || '-d', card_uid, ${at('dep')}, day, ${at('dep')} + interval '2 seconds', student_id
       from city_day where dep is not null`,
    );
    // The SMS of those swipes: for each verified phone of a subscription in effect that day with the item (the
    // lifecycle's rule, lifecycle-sql.ts inEffectOn, as attendance-notices.ts), the body of attendanceNoticeBody();
    // delivered, 20 % still 'sent' (no report yet), 0.5 % failed.
    const hhmm = (col: string) => `to_char(make_time(${col} / 3600, ${col} / 60 % 60, 0), 'HH24:MI')`;
    const sms = (dir: 'arrival' | 'departure', col: string) => `
       select cd.school_id, cd.student_id, '${dir}', ph.number, ? || cd.name || '已於' || ${hhmm(col)} || '${dir === 'arrival' ? '到校' : '離校'}。',
              '${dir}:' || cd.student_id || ':' || cd.day || ':' || ph.number, ${at(`cd.${col}`)} as at,
              abs(hashtext(cd.student_id || '${dir}' || cd.day)) % 1000 as h
       from city_day cd
       join subscriptions sub on sub.student_id = cd.student_id and sub.${dir}
       join service_periods per on per.id = sub.period_id and per.school_id = cd.school_id
       join phones ph on ph.student_id = cd.student_id and ph.verified_at is not null
       where cd.${col} is not null and ?`;
    const inEffect = inEffectOn(trx, { sub: 'sub', period: 'per' }, trx.raw('cd.day'));
    await step(
      '到離校簡訊 SMS outbox',
      `insert into sms_outbox (school_id, student_id, kind, phone, body, dedupe_key, status, attempts, next_attempt_at, provider,
                               provider_message_id, last_error, created_at, sent_at, delivered_at)
       select school_id, student_id, kind, number, body, key,
              case when h < 5 then 'failed' when h < 205 then 'sent' else 'delivered' end,
              case when h < 5 then 5 else 1 end, at, 'log',
              case when h < 5 then null else 'log-city-' || key end,
              case when h < 5 then 'simulated: number out of service' end,
              at, case when h < 5 then null else at + interval '3 seconds' end,
              case when h >= 205 then at + interval '8 seconds' end
       from (${sms('arrival', 'arr')} union all ${sms('departure', 'dep')}) x(school_id, student_id, kind, number, body, key, at, h)`,
      [SMS_PREFIX, inEffect, SMS_PREFIX, inEffect],
    );
    // The stored day (attendance_days, as days.ts computes it): arrival = the first swipe; departure = the 16:0x
    // swipe, which is after the default dismissal start (11:30) and ≥ 10 min after the arrival, at a 'both'
    // reader. The test recomputes every day with refreshDays() and expects the same rows (with the dismissal
    // start they were computed with: the default, as no city school sets its own).
    await step(
      '出勤日 attendance days',
      `insert into attendance_days (student_id, day, school_id, arrival_time, arrival_manual, departure_time, departure_manual,
                                    dismissal_start)
       select student_id, day, school_id, ${hhmm('arr')}, false, case when dep is not null then ${hhmm('dep')} end, false, ?
       from city_day where arr is not null`,
      [DEFAULT_DISMISSAL_START],
    );
    await step(
      '公告 announcements',
      `insert into announcements (school_id, title, body, pinned, author_account_id, author_name, published_at)
       select null, ?, ?, true, null, '臺北市政府教育局', ((?::date - 20)::text || ' 09:00+08')::timestamptz
       union all
       select cs.school_id, '請家長提醒學生每日進出校門刷卡', '為使到離校簡訊正常通知，請提醒孩子每日到校及放學時於校門口讀卡機刷數位學生證。', false, a.id, a.display_name,
              ((?::date - 2)::text || ' 08:30+08')::timestamptz
       from city_school cs join accounts a on a.school_id = cs.school_id and a.role = 'school_admin'`,
      [
        `到離校簡訊服務${period.name}開放申請`,
        `${period.name}到離校簡訊服務（${period.startsOn}~${period.endsOn}）開放家長申請，到校SMS、離校SMS各新臺幣150元。`,
        o.today,
        o.today,
      ],
    );
    // The schools' daily figures (統計報表, 首頁), recounted from the rows written above.
    const f0 = Date.now();
    const figures = await rebuildFigures(trx, { schoolIds: schools.map((s) => s.id) });
    const fs = { name: '每日統計 daily figures', rows: figures.smsRows + figures.attendanceRows, ms: Date.now() - f0 };
    report.steps.push(fs);
    o.progress?.(fs);
    await trx('audit_log').insert({
      actor_account_id: null,
      action: 'admin.demo_city',
      details: JSON.stringify({
        via: 'admin script',
        schools: schools.length,
        studentsPerSchool: perSchool,
        today: o.today,
      }),
    });
  });
  const t = Date.now();
  await knex.raw('analyze');
  report.steps.push({ name: 'ANALYZE', rows: 0, ms: Date.now() - t });
  report.ms = Date.now() - started;
  return report;
}
