/**
 * 統計報表 for staff, always within the caller's scope (a teacher's classes, an admin's school): each report is
 * one table model that the page, the chart and the CSV download all render, so they show the same figures.
 */
import type { Knex } from 'knex';
import { prepared } from '../../db/prepared.js';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleClassIds, visibleSchoolIds, visibleStudentIds, whereStudentVisible } from '../scope.js';
import { attendanceFigures, smsBucket, smsFigures, type SmsFigure } from './daily-figures.js';
import { reportState, STATE_LABELS, type SubscriptionStatus } from '../subscriptions/lifecycle.js';
import { addDays, daysBetween, isSchoolDay, schoolYearOf, startOfTaipeiDay, weekdayName, weekdayOf } from '../time.js';
import type { ChartSpec } from './chart.js';
import { csvDocument } from '../csv.js';

export const REPORT_KEYS = ['subscriptions', 'requests', 'refunds', 'sms', 'coverage'] as const;
export type ReportKey = (typeof REPORT_KEYS)[number];
export const MAX_RANGE_DAYS = 92;

export type Cell = string | number;

export interface Report {
  key: ReportKey;
  title: string;
  note: string;
  columns: string[];
  rows: Cell[][];
  footer?: Cell[];
  chart: ChartSpec;
}

export interface Range {
  from: string;
  to: string;
}

/** The columns of 各班訂購狀態, in the words of the order list (lifecycle.STATE_LABELS). */
export const SUBSCRIPTION_STATES: [string, string][] = (
  ['active', 'pending', 'cancel_pending', 'cancelled', 'rejected', 'withdrawn', 'expired'] as const
).map((k) => [k, STATE_LABELS[k]]);

/** The classes a report lists: those of the scope that have students (classes of past years emptied by an import drop out). */
export interface ScopeClass {
  id: number;
  name: string;
  code: string;
}

async function scopeClasses(knex: Knex, user: CurrentUser): Promise<ScopeClass[]> {
  return (await prepared(
    knex('classes as c')
      .whereIn('c.id', visibleClassIds(knex, user))
      .where('c.school_id', user.schoolId)
      .whereExists(knex('students as cs').whereRaw('cs.class_id = c.id').select(knex.raw('1')))
      .orderBy([{ column: 'c.school_year', order: 'desc' }, 'c.code'])
      .select('c.id', 'c.name', 'c.code'),
  )) as ScopeClass[];
}

/**
 * Subscriptions of the periods overlapping the range, by class and by the state they are in today
 * (lifecycle.reportState: a cancellation approved today still counts as 生效 until it takes effect tomorrow;
 * one that ran to its period's end is 已到期). The database groups the rows by what the rule reads; the rule
 * itself runs here, once per group.
 */
export async function subscriptionsByClass(
  knex: Knex,
  user: CurrentUser,
  range: Range,
  today: string,
  classList: Promise<ScopeClass[]> = scopeClasses(knex, user),
): Promise<Report> {
  // The school's periods overlapping the range (a few rows), read beside the school's subscriptions grouped by
  // their period; the groups of other periods are left out here. (Naming the periods in the grouping statement —
  // a join, or `period_id in (…)` of one school's period — makes the planner expect 6 rows instead of 960 and
  // look every student up by key: 1,920–4,690 buffers instead of 855 on the city.)
  const [classes, periodRows, rowsByPeriod] = await Promise.all([
    classList,
    prepared(
      knex('service_periods as p')
        .whereIn('p.school_id', visibleSchoolIds(user))
        .where('p.starts_on', '<=', range.to)
        .where('p.ends_on', '>=', range.from)
        .select('p.id', 'p.starts_on', 'p.ends_on'),
    ) as unknown as Promise<{ id: number; starts_on: string; ends_on: string }[]>,
    prepared(
      whereStudentVisible(knex, knex('subscriptions as s').join('students as st', 'st.id', 's.student_id'), user, 'st')
        .whereIn('s.school_id', visibleSchoolIds(user))
        .groupBy('st.class_id', 's.status', 's.effective_on', 's.cancelled_on', 's.period_id')
        .select(
          'st.class_id',
          's.status',
          's.effective_on',
          's.cancelled_on',
          's.period_id',
          knex.raw('count(*)::int as n'),
        ),
    ) as unknown as Promise<
      {
        class_id: number;
        status: SubscriptionStatus;
        effective_on: string | null;
        cancelled_on: string | null;
        period_id: number;
        n: number;
      }[]
    >,
  ]);
  const periods = new Map(periodRows.map((p) => [p.id, p]));
  // The rule runs once per group on the row as it came (no copy of each row: copying 559 rows with their period's
  // dates was most of the Node CPU this report took on the city); counts by class and state.
  const byClass = new Map<number, Map<string, number>>();
  for (const g of rowsByPeriod) {
    const p = periods.get(g.period_id);
    if (!p) continue; // a period that does not overlap the range
    const state: string = reportState(g, p, today);
    let m = byClass.get(g.class_id);
    if (!m) byClass.set(g.class_id, (m = new Map()));
    m.set(state, (m.get(state) ?? 0) + g.n);
  }
  const rows: Cell[][] = classes.map((c) => {
    const m = byClass.get(c.id) ?? new Map<string, number>();
    const vals = SUBSCRIPTION_STATES.map(([k]) => m.get(k) ?? 0);
    return [c.name, ...vals, vals.reduce((a, b) => a + b, 0)];
  });
  const footer: Cell[] = [
    '合計',
    ...SUBSCRIPTION_STATES.map((_, i) => sumCol(rows, i + 1)),
    sumCol(rows, SUBSCRIPTION_STATES.length + 1),
  ];
  return {
    key: 'subscriptions',
    title: '各班訂購狀態',
    note: `服務期間與 ${range.from}~${range.to} 重疊的簡訊訂購，依班級與申請狀態統計。`,
    columns: ['班級', ...SUBSCRIPTION_STATES.map(([, l]) => l), '合計'],
    rows,
    footer,
    chart: {
      title: '各班訂購狀態',
      desc: `各班簡訊訂購件數，依狀態分段：${SUBSCRIPTION_STATES.map(([, l]) => l).join('、')}。詳細數字見下表。`,
      categories: classes.map((c) => c.name),
      series: SUBSCRIPTION_STATES.map(([, l], i) => ({ name: l, values: rows.map((r) => Number(r[i + 1])) })),
    },
  };
}

/** The Monday of a date's week. */
export function weekStart(date: string): string {
  return addDays(date, -((weekdayOf(date) + 6) % 7));
}

/** Orders and cancellations requested in the range, per week (Monday to Sunday). */
export async function requestsPerWeek(knex: Knex, user: CurrentUser, range: Range): Promise<Report> {
  // review_requests.school_id is the subscription's school (a trigger keeps it): one school's requests of the
  // range come from the (school_id, requested_on) index alone; a teacher's are narrowed to their students.
  const q = knex('review_requests as r')
    .whereIn('r.school_id', visibleSchoolIds(user))
    .whereBetween('r.requested_on', [range.from, range.to]);
  if (user.role !== 'school_admin')
    q.whereIn(
      'r.subscription_id',
      knex('subscriptions as s')
        .whereIn('s.school_id', visibleSchoolIds(user))
        .whereIn('s.student_id', visibleStudentIds(knex, user))
        .select('s.id'),
    );
  const counts = (await prepared(
    q
      .groupBy('r.requested_on', 'r.kind', 'r.status')
      .select('r.requested_on', 'r.kind', 'r.status', knex.raw('count(*)::int as n')),
  )) as {
    requested_on: string;
    kind: string;
    status: string;
    n: number;
  }[];
  const weeks: string[] = [];
  for (let w = weekStart(range.from); w <= range.to; w = addDays(w, 7)) weeks.push(w);
  const idx = new Map(weeks.map((w, i) => [w, i]));
  const rows: number[][] = weeks.map(() => [0, 0, 0, 0]);
  for (const c of counts) {
    const row = rows[idx.get(weekStart(c.requested_on)) ?? -1];
    if (!row) continue;
    const base = c.kind === 'order' ? 0 : 2;
    row[base] = (row[base] ?? 0) + c.n;
    if (c.status === 'approved') row[base + 1] = (row[base + 1] ?? 0) + c.n;
  }
  const label = (w: string) => `${w}~${addDays(w, 6).slice(5)}`;
  const tableRows: Cell[][] = weeks.map((w, i) => [label(w), ...(rows[i] ?? [])]);
  return {
    key: 'requests',
    title: '每週訂購與註銷申請',
    note: `申請日期在 ${range.from}~${range.to} 的訂購申請與註銷申請，每週（週一至週日）統計，並列出其中已核准的件數。`,
    columns: ['週次', '訂購申請', '訂購已核准', '註銷申請', '註銷已核准'],
    rows: tableRows,
    footer: ['合計', sumCol(tableRows, 1), sumCol(tableRows, 2), sumCol(tableRows, 3), sumCol(tableRows, 4)],
    chart: {
      title: '每週訂購與註銷申請',
      desc: '每週的訂購申請件數與註銷申請件數。詳細數字見下表。',
      categories: weeks.map((w) => w.slice(5)),
      series: [
        { name: '訂購申請', values: rows.map((r) => r[0] ?? 0) },
        { name: '註銷申請', values: rows.map((r) => r[2] ?? 0) },
      ],
    },
  };
}

/** Refunds of cancellations approved with effect in the range, per class: due, paid, outstanding. */
export async function refundsByClass(
  knex: Knex,
  user: CurrentUser,
  range: Range,
  classList: Promise<ScopeClass[]> = scopeClasses(knex, user),
): Promise<Report> {
  // The school's approved cancellations taking effect in the range, through (school_id, effective_on); only
  // those rows' subscriptions and students are read (for the class).
  const q = knex('review_requests as r')
    .join('subscriptions as s', 's.id', 'r.subscription_id')
    .join('students as st', 'st.id', 's.student_id')
    .whereIn('r.school_id', visibleSchoolIds(user))
    .where({ 'r.kind': 'cancellation', 'r.status': 'approved' })
    .where('r.refund_amount', '>', 0)
    .whereBetween('r.effective_on', [range.from, range.to]);
  if (user.role !== 'school_admin') q.whereIn('st.id', visibleStudentIds(knex, user));
  const [classes, sums] = await Promise.all([
    classList,
    prepared(
      q
        .groupBy('st.class_id')
        .select(
          'st.class_id',
          knex.raw('count(*)::int as due_count'),
          knex.raw('sum(r.refund_amount)::int as due_amount'),
          knex.raw('count(r.refund_paid_on)::int as paid_count'),
          knex.raw('coalesce(sum(r.refund_amount) filter (where r.refund_paid_on is not null), 0)::int as paid_amount'),
        ),
    ) as unknown as Promise<
      { class_id: number; due_count: number; due_amount: number; paid_count: number; paid_amount: number }[]
    >,
  ]);
  const by = new Map(sums.map((s) => [s.class_id, s]));
  const rows: Cell[][] = classes.map((c) => {
    const s = by.get(c.id);
    const due = s?.due_amount ?? 0;
    const paid = s?.paid_amount ?? 0;
    return [c.name, s?.due_count ?? 0, due, s?.paid_count ?? 0, paid, due - paid];
  });
  return {
    key: 'refunds',
    title: '退費統計',
    note: `註銷於 ${range.from}~${range.to} 生效且應退費的件數與金額（新臺幣元），已退與未退。`,
    columns: ['班級', '應退件數', '應退金額', '已退件數', '已退金額', '未退金額'],
    rows,
    footer: ['合計', sumCol(rows, 1), sumCol(rows, 2), sumCol(rows, 3), sumCol(rows, 4), sumCol(rows, 5)],
    chart: {
      title: '各班退費金額',
      desc: '各班應退金額，分為已退與未退（新臺幣元）。詳細數字見下表。',
      categories: classes.map((c) => c.name),
      series: [
        { name: '已退金額', values: rows.map((r) => Number(r[4])) },
        { name: '未退金額', values: rows.map((r) => Number(r[5])) },
      ],
    },
  };
}

function daysOf(range: Range): string[] {
  const out: string[] = [];
  for (let d = range.from; d <= range.to; d = addDays(d, 1)) out.push(d);
  return out;
}

/**
 * The scope's SMS per Taipei day of creation, by state. The school office's whole school is the school's daily
 * figures (daily-figures.ts: one row a day, kept by the writers); a teacher's classes are counted from their
 * students' outbox rows (the school's rows of the range through the (school_id, created_at) index, then the
 * classes' students), the same rule for the states (smsBucket).
 */
async function smsByDay(knex: Knex, user: CurrentUser, range: Range): Promise<Map<string, SmsFigure>> {
  if (user.role === 'school_admin') return smsFigures(knex, user.schoolId, range.from, range.to);
  const counts = (await knex('sms_outbox as o')
    .whereIn('o.school_id', visibleSchoolIds(user))
    .whereIn('o.student_id', visibleStudentIds(knex, user))
    .where('o.created_at', '>=', startOfTaipeiDay(range.from))
    .where('o.created_at', '<', startOfTaipeiDay(addDays(range.to, 1)))
    .groupBy('day', 'o.status')
    .select(
      knex.raw(`to_char((o.created_at at time zone 'UTC') + interval '8 hours', 'YYYY-MM-DD') as day`),
      'o.status',
      knex.raw('count(*)::int as n'),
    )) as { day: string; status: string; n: number }[];
  const out = new Map<string, SmsFigure>();
  for (const c of counts) {
    let f = out.get(c.day);
    if (!f) out.set(c.day, (f = { queued: 0, sent: 0, delivered: 0, failed: 0 }));
    f[smsBucket(c.status)] += c.n;
  }
  return out;
}

/**
 * SMS of the scope's students per Taipei day of creation: 已發送 = handed to the provider (sent or delivered),
 * 已送達 = delivery confirmed, 發送失敗 = given up, 待發送 = still queued.
 */
export async function smsPerDay(knex: Knex, user: CurrentUser, range: Range): Promise<Report> {
  const byDay = await smsByDay(knex, user, range);
  const days = daysOf(range);
  const of = (d: string) => byDay.get(d) ?? { queued: 0, sent: 0, delivered: 0, failed: 0 };
  const sent = days.map((d) => of(d).sent + of(d).delivered);
  const delivered = days.map((d) => of(d).delivered);
  const failed = days.map((d) => of(d).failed);
  const queued = days.map((d) => of(d).queued);
  const rows: Cell[][] = days.map((d, i) => [
    d,
    weekdayName(d),
    sent[i] ?? 0,
    delivered[i] ?? 0,
    failed[i] ?? 0,
    queued[i] ?? 0,
  ]);
  return {
    key: 'sms',
    title: '每日簡訊發送',
    note: '每日產生的簡訊（到校、離校、驗證碼與訊息）：已發送含已送達；已送達為電信業者回報送達；發送失敗為重試後仍失敗。',
    columns: ['日期', '星期', '已發送', '已送達', '發送失敗', '待發送'],
    rows,
    footer: ['合計', '', sumCol(rows, 2), sumCol(rows, 3), sumCol(rows, 4), sumCol(rows, 5)],
    chart: {
      title: '每日簡訊發送',
      desc: '每日簡訊則數，分段為已送達、已發送未回報、發送失敗、待發送。詳細數字見下表。',
      categories: days.map((d) => d.slice(5)),
      series: [
        { name: '已送達', values: delivered },
        { name: '已發送未回報', values: sent.map((s, i) => s - (delivered[i] ?? 0)) },
        { name: '發送失敗', values: failed },
        { name: '待發送', values: queued },
      ],
    },
  };
}

/** The first and last day of 學年度 `year` (August to July). */
export function schoolYearSpan(year: number): Range {
  return { from: `${year + 1911}-08-01`, to: `${year + 1912}-07-31` };
}

/**
 * Students of the scope with a record (a stored day) on each day of the range, counting only those enrolled
 * that day: a student of a class of that day's 學年度 (see coveragePerDay). Days with none are absent.
 *
 * The school office's whole school is its daily figures (students with a stored day, daily-figures.ts) less
 * the stored days of students NOT enrolled that day — those of the school's classes of another 學年度
 * (graduates left in a past year's class, next year's classes imported before August), found from those
 * classes' students. A teacher's classes are counted from their students' stored days.
 */
async function recordedPerDay(knex: Knex, user: CurrentUser, range: Range): Promise<Map<string, number>> {
  const years = [...new Set([schoolYearOf(range.from), schoolYearOf(range.to)])];
  // The part of the range in each school year: a stored day in it counts when the student's class is of that year.
  const parts = years.map((y) => {
    const span = schoolYearSpan(y);
    return {
      year: y,
      from: span.from > range.from ? span.from : range.from,
      to: span.to < range.to ? span.to : range.to,
    };
  });
  const dayCounts = (q: Knex.QueryBuilder) =>
    prepared(q.groupBy('ad.day').select('ad.day as d', knex.raw('count(*)::int as n'))) as unknown as Promise<
      { d: string; n: number }[]
    >;
  if (user.role !== 'school_admin') {
    const perDay = await dayCounts(
      knex('attendance_days as ad')
        .join('students as st', 'st.id', 'ad.student_id')
        .join('classes as c', 'c.id', 'st.class_id')
        .where('ad.school_id', user.schoolId)
        .where('st.school_id', user.schoolId)
        .whereIn('ad.student_id', visibleStudentIds(knex, user))
        .whereBetween('ad.day', [range.from, range.to])
        .where((w) => {
          for (const p of parts)
            w.orWhere((o) => o.whereBetween('ad.day', [p.from, p.to]).where('c.school_year', p.year));
        }),
    );
    return new Map(perDay.map((r) => [r.d, r.n]));
  }
  const [figures, notEnrolled] = await Promise.all([
    attendanceFigures(knex, user.schoolId, range.from, range.to),
    dayCounts(
      knex('classes as c')
        .join('students as st', 'st.class_id', 'c.id')
        .join('attendance_days as ad', 'ad.student_id', 'st.id')
        .where('c.school_id', user.schoolId)
        .where('st.school_id', user.schoolId)
        .where('ad.school_id', user.schoolId)
        .whereBetween('ad.day', [range.from, range.to])
        .where((w) => {
          for (const p of parts)
            w.orWhere((o) => o.whereBetween('ad.day', [p.from, p.to]).whereNot('c.school_year', p.year));
        }),
    ),
  ]);
  const out = new Map<string, number>();
  for (const [d, f] of figures) out.set(d, f.recorded);
  for (const r of notEnrolled) out.set(r.d, (out.get(r.d) ?? 0) - r.n);
  for (const [d, n] of out) if (n <= 0) out.delete(d);
  return out;
}

/**
 * Swipe coverage per school day (weekdays that are not holidays, plus any day with a record): students with a
 * record that day (card or 補登, as attendance_days keeps them) ÷ the students **enrolled on that day**.
 * Enrollment is modelled by the class: a student belongs to a class of one 學年度 (August to July; a roster
 * import for the next year moves them to that year's class), so a student is enrolled on the days of their
 * class's school year — a student of next year's class does not count before August, one left in a past
 * year's class no longer counts. Only enrolled students' records count, so the rate never exceeds 100 %.
 * 未刷卡 is not absence: this measures card use.
 */
export async function coveragePerDay(knex: Knex, user: CurrentUser, range: Range): Promise<Report> {
  const [byYear, holidayRows, with_] = await Promise.all([
    prepared(
      whereStudentVisible(knex, knex('students as st').join('classes as c', 'c.id', 'st.class_id'), user, 'st')
        .groupBy('c.school_year')
        .select('c.school_year', knex.raw('count(*)::int as n')),
    ) as unknown as Promise<{ school_year: number; n: number }[]>,
    prepared(
      knex('school_holidays')
        .where('school_id', user.schoolId)
        .whereBetween('holiday_on', [range.from, range.to])
        .pluck('holiday_on'),
    ) as unknown as Promise<string[]>,
    recordedPerDay(knex, user, range),
  ]);
  const enrolledOn = (d: string) => byYear.find((y) => y.school_year === schoolYearOf(d))?.n ?? 0;
  const holidays = new Set(holidayRows);
  const days = daysOf(range).filter((d) => isSchoolDay(d, holidays) || with_.has(d));
  const pct = (n: number, total: number) => (total === 0 ? 0 : Math.round((n / total) * 1000) / 10);
  const rows: Cell[][] = days.map((d) => {
    const n = with_.get(d) ?? 0;
    const total = enrolledOn(d);
    return [d, weekdayName(d), n, total, `${pct(n, total).toFixed(1)}%`];
  });
  return {
    key: 'coverage',
    title: '每日刷卡涵蓋率',
    note: '上課日（週一至週五，不含學校假日；另含有紀錄的日子）有刷卡或補登紀錄的學生數 ÷ 當日在學學生數（班級所屬學年度內的學生）。「未刷卡」只表示沒有刷卡紀錄。',
    columns: ['日期', '星期', '有紀錄學生數', '學生數', '涵蓋率'],
    rows,
    chart: {
      title: '每日刷卡涵蓋率',
      desc: '每個上課日有刷卡或補登紀錄的學生比例（百分比）。詳細數字見下表。',
      categories: days.map((d) => d.slice(5)),
      series: [{ name: '涵蓋率', values: days.map((d) => pct(with_.get(d) ?? 0, enrolledOn(d))) }],
      max: 100,
      unit: '%',
    },
  };
}

export async function buildReport(
  knex: Knex,
  user: CurrentUser,
  key: ReportKey,
  range: Range,
  today: string,
): Promise<Report> {
  switch (key) {
    case 'subscriptions':
      return subscriptionsByClass(knex, user, range, today);
    case 'requests':
      return requestsPerWeek(knex, user, range);
    case 'refunds':
      return refundsByClass(knex, user, range);
    case 'sms':
      return smsPerDay(knex, user, range);
    case 'coverage':
      return coveragePerDay(knex, user, range);
  }
}

/**
 * Every report of the page. Their statements are independent reads, so they run side by side (each report's own
 * statements too): the page waits for the slowest instead of the sum. All ten statements may be in flight at
 * once (the pool queues what it cannot serve; the embedded database runs them one after the other on its one
 * connection). The classes are read once for the two reports that list them.
 */
export async function buildAllReports(knex: Knex, user: CurrentUser, range: Range, today: string): Promise<Report[]> {
  const classes = scopeClasses(knex, user);
  return Promise.all([
    subscriptionsByClass(knex, user, range, today, classes),
    requestsPerWeek(knex, user, range),
    refundsByClass(knex, user, range, classes),
    smsPerDay(knex, user, range),
    coveragePerDay(knex, user, range),
  ]);
}

function sumCol(rows: Cell[][], i: number): number {
  return rows.reduce((s, r) => s + (typeof r[i] === 'number' ? (r[i] as number) : 0), 0);
}

/** Validate a date range: both dates, from ≤ to, at most MAX_RANGE_DAYS days. */
export function rangeProblem(range: Range): string | undefined {
  if (range.from > range.to) return '開始日期不可晚於結束日期';
  if (daysBetween(range.from, range.to) + 1 > MAX_RANGE_DAYS) return `日期區間最長 ${MAX_RANGE_DAYS} 天`;
  return undefined;
}

/** The report as CSV (see csv.ts): the same columns, rows and footer as the page. */
export function reportCsv(r: Report): string {
  return csvDocument([r.columns, ...r.rows, ...(r.footer ? [r.footer] : [])]);
}
