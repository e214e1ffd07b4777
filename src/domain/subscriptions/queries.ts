/**
 * The read side of the SMS service: the order list, the cancellation list, the review queue, a subscription's
 * history, the review count for the menu. Every query carries the user's scope in its WHERE and a LIMIT.
 */
import type { Knex } from 'knex';
import { prepared } from '../../db/prepared.js';
import type { CurrentUser } from '../accounts/current-user.js';
import { offsetOf, PAGE_SIZE, pageOf, type Page } from '../paging.js';
import { visibleClassIds, visibleStudentIds, whereSubscriptionVisible } from '../scope.js';
import { hasVerifiedPhoneSql } from '../phones/phone-service.js';
import {
  cancellationLabel,
  canCancel,
  displayState,
  feeOf,
  type ApplicantFilter,
  type CancellationStatusFilter,
  type DisplayState,
  type OrderStatusFilter,
  type RequestStatus,
  type SubscriptionStatus,
} from './lifecycle.js';
import { shownAs } from './lifecycle-sql.js';
import { PENDING_REVIEW_COUNT_SQL } from './review-count.js';

export interface CommonFilters {
  schoolId?: number | undefined;
  classId?: number | undefined;
  name?: string | undefined;
  studentNumber?: string | undefined;
  seat?: number | undefined;
  applicant?: ApplicantFilter | undefined;
  periodId?: number | undefined;
  page: number;
}

function applyCommon(q: Knex.QueryBuilder, f: CommonFilters): void {
  if (f.schoolId !== undefined) q.where('st.school_id', f.schoolId);
  if (f.classId !== undefined) q.where('st.class_id', f.classId);
  if (f.name) q.whereRaw('strpos(st.name, ?) > 0', [f.name]);
  if (f.studentNumber) q.where('st.student_number', f.studentNumber);
  if (f.seat !== undefined) q.where('st.seat_number', f.seat);
  if (f.applicant === 'parent') q.whereNotNull('s.applicant_account_id');
  if (f.applicant === 'system') q.whereNull('s.applicant_account_id');
  if (f.periodId !== undefined) q.where('s.period_id', f.periodId);
}

const ROW_COLUMNS = [
  's.id',
  's.status',
  's.arrival',
  's.departure',
  's.applicant_name',
  's.applied_on',
  's.effective_on',
  's.cancelled_on',
  'st.id as student_id',
  'st.name as student_name',
  'st.student_number',
  'st.seat_number',
  'c.name as class_name',
  'sc.name as school_name',
  'p.name as period_name',
  'p.starts_on',
  'p.ends_on',
  'p.arrival_fee',
  'p.departure_fee',
];

/**
 * The subscriptions in the user's scope with what the filters read (the student, the period). The lists count
 * on this alone and add the columns they only display (class, school) to the page of rows: a count does not
 * join 1,000 rows to tables it does not read.
 */
function baseSubscriptions(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  // LEFT joins on the two keys every subscription has (NOT NULL foreign keys: the rows are the same as an inner
  // join's), so that PostgreSQL drops the join when nothing reads the table: the school office's unfiltered count
  // and page of ids are then read from the (school_id, id) index alone, not by 960 look-ups of the students.
  const q = knex('subscriptions as s')
    .leftJoin('students as st', 'st.id', 's.student_id')
    .leftJoin('service_periods as p', 'p.id', 's.period_id');
  return whereSubscriptionVisible(knex, q, user);
}

/**
 * The requests (`r`) of the subscriptions `s` already in `q`, by kind or state: looked up subscription by
 * subscription (LATERAL, fenced by OFFSET 0 so it is not flattened), so a school's list reads its own requests
 * through (subscription_id, kind) and never hashes every school's requests of that kind or state.
 */
function requestsOf(
  q: Knex.QueryBuilder,
  where: { kind?: 'order' | 'cancellation'; status?: RequestStatus },
): Knex.QueryBuilder {
  const [column, value] = where.kind !== undefined ? ['kind', where.kind] : ['status', where.status!];
  // (Knex leaves out an OFFSET 0, hence the SQL by hand; the column is one of two names, the value a binding.)
  return q.joinRaw(
    `cross join lateral (select r0.* from review_requests r0 where r0.subscription_id = s.id and r0.${column} = ? offset 0) as r`,
    [value],
  );
}

/** The page's rows: the class and school names beside the scoped, filtered subscriptions. */
const withNames = (q: Knex.QueryBuilder): Knex.QueryBuilder =>
  q.join('classes as c', 'c.id', 'st.class_id').join('schools as sc', 'sc.id', 'st.school_id');

export interface SubscriptionRow {
  id: number;
  status: SubscriptionStatus;
  arrival: boolean;
  departure: boolean;
  applicant_name: string;
  applied_on: string;
  effective_on: string | null;
  cancelled_on: string | null;
  student_id: number;
  student_name: string;
  student_number: string;
  seat_number: number;
  class_name: string;
  school_name: string;
  period_name: string;
  starts_on: string;
  ends_on: string;
  arrival_fee: number;
  departure_fee: number;
  open_request_id: number | null;
  open_request_kind: 'order' | 'cancellation' | null;
  rejection_reason?: string | null;
  display: DisplayState;
  cancellable: boolean;
  fee: number;
}

/**
 * A list's total and its page in ONE round trip. `filtered` is the scoped, filtered query (counted); `ids` the
 * page's ids from it (in the (school_id, id) index when only the school is asked); `row` one row by
 * `page_id.id`, joined LATERAL so each of the 50 is a key look-up at any table size (never a hash over the
 * city's rows). A page past the end still answers the total, on a row of nulls that is dropped. `orderBy`
 * names the rows' output columns.
 */
async function countAndPage<T>(
  knex: Knex,
  filtered: Knex.QueryBuilder,
  ids: Knex.QueryBuilder,
  row: Knex.QueryBuilder,
  orderBy: string,
): Promise<{ total: number; rows: T[] }> {
  const { rows } = await prepared(
    knex.raw<{ rows: (T & { list_total: string | number; list_row: boolean | null })[] }>(
      `select t.list_total, pg.* from (?) as t
       left join (select true as list_row, x.* from (?) as page_id cross join lateral (?) as x) as pg on true
     order by ${orderBy.replace(/^(\w+)/, 'pg.$1')}`,
      [filtered.clone().count({ list_total: '*' }), ids, row],
    ),
  );
  const total = Number(rows[0]?.list_total ?? 0);
  return {
    total,
    rows: rows.filter((r) => r.list_row).map(({ list_total: _t, list_row: _r, ...rest }) => rest as unknown as T),
  };
}

/** 到離校簡訊訂購服務: the subscriptions in the user's scope, 50 a page. */
export async function listSubscriptions(
  knex: Knex,
  user: CurrentUser,
  f: CommonFilters & { status?: OrderStatusFilter | undefined },
  today: string,
): Promise<Page<SubscriptionRow>> {
  const q = baseSubscriptions(knex, user);
  applyCommon(q, f);
  // The same rule as the 申請狀態 label (lifecycle.displayState), so a row is found under the state it shows.
  if (f.status !== undefined) q.where(shownAs(knex, f.status, { sub: 's', period: 'p' }, today));
  // The page's ids in id order (found in the (school_id, id) index), then only their rows with the names.
  const ids = q.clone().select('s.id').orderBy('s.id').limit(PAGE_SIZE).offset(offsetOf(f.page));
  const row = withNames(
    knex('subscriptions as s')
      .join('students as st', 'st.id', 's.student_id')
      .join('service_periods as p', 'p.id', 's.period_id'),
  )
    .whereRaw('s.id = page_id.id')
    .limit(1)
    .leftJoin('review_requests as r', function () {
      this.on('r.subscription_id', 's.id').andOnVal('r.status', 'pending');
    })
    .select([
      ...ROW_COLUMNS,
      'r.id as open_request_id',
      'r.kind as open_request_kind',
      // A rejected order shows the teacher's reason (its one order request).
      knex.raw(
        `case when s.status = 'rejected' then (select rr.decision_reason from review_requests rr where rr.subscription_id = s.id and rr.status = 'rejected' order by rr.id desc limit 1) end as rejection_reason`,
      ),
    ]);
  const { total, rows } = await countAndPage<SubscriptionRow>(knex, q, ids, row, 'id');
  return pageOf(
    rows.map((r: SubscriptionRow) => ({
      ...r,
      display: displayState(r, r, today),
      cancellable: canCancel(r, r, today),
      fee: feeOf(r),
    })),
    total,
    f.page,
  );
}

export interface CancellationRow
  extends Omit<SubscriptionRow, 'display' | 'cancellable' | 'open_request_id' | 'open_request_kind'> {
  request_id: number;
  request_status: RequestStatus;
  requested_by_name: string;
  requested_on: string;
  request_effective_on: string | null;
  decision_reason: string | null;
  refund_amount: number | null;
  refund_paid_on: string | null;
  label: string;
}

/** One request of a page (`page_id.id`) with its subscription, student and names: the lists' LATERAL row. */
const requestPageRow = (knex: Knex): Knex.QueryBuilder =>
  withNames(
    knex('review_requests as r')
      .join('subscriptions as s', 's.id', 'r.subscription_id')
      .join('students as st', 'st.id', 's.student_id')
      .join('service_periods as p', 'p.id', 's.period_id'),
  )
    .whereRaw('r.id = page_id.id')
    .limit(1);

/** 到離校簡訊註銷服務: the cancellation requests in the user's scope, 50 a page. */
export async function listCancellations(
  knex: Knex,
  user: CurrentUser,
  f: CommonFilters & { status?: CancellationStatusFilter | undefined },
): Promise<Page<CancellationRow>> {
  const q = requestsOf(baseSubscriptions(knex, user), { kind: 'cancellation' });
  applyCommon(q, f);
  if (f.status) q.where('r.status', f.status);
  const ids = q.clone().select('r.id').orderBy('r.id', 'desc').limit(PAGE_SIZE).offset(offsetOf(f.page));
  const row = requestPageRow(knex).select([
    ...ROW_COLUMNS,
    'r.id as request_id',
    'r.status as request_status',
    'r.requested_by_name',
    'r.requested_on',
    'r.effective_on as request_effective_on',
    'r.decision_reason',
    'r.refund_amount',
    'r.refund_paid_on',
  ]);
  const { total, rows } = await countAndPage<CancellationRow>(knex, q, ids, row, 'request_id desc');
  return pageOf(
    rows.map((r: CancellationRow) => ({
      ...r,
      fee: feeOf(r),
      label: cancellationLabel({
        status: r.request_status,
        effective_on: r.request_effective_on,
        decision_reason: r.decision_reason,
      }),
    })),
    total,
    f.page,
  );
}

export interface ReviewRow extends Omit<CancellationRow, 'label'> {
  kind: 'order' | 'cancellation';
  class_id: number;
  /** No verified phone: an order's SMS could never arrive (審核 marks it 尚無已驗證手機). */
  has_verified_phone: boolean;
}

/** 審核: pending orders and cancellations of the teacher's classes / the admin's school. */
export async function listPendingReviews(
  knex: Knex,
  user: CurrentUser,
  f: { classId?: number | undefined; kind?: 'order' | 'cancellation' | undefined; page: number },
): Promise<Page<ReviewRow>> {
  const q = requestsOf(baseSubscriptions(knex, user), { status: 'pending' });
  if (f.classId !== undefined) q.where('st.class_id', f.classId);
  if (f.kind) q.where('r.kind', f.kind);
  const ids = q.clone().select('r.id').orderBy('r.id').limit(PAGE_SIZE).offset(offsetOf(f.page));
  const row = requestPageRow(knex).select([
    ...ROW_COLUMNS,
    'st.class_id',
    'r.id as request_id',
    'r.kind',
    'r.status as request_status',
    'r.requested_by_name',
    'r.requested_on',
    hasVerifiedPhoneSql(knex, 'st.id').wrap('', ' as has_verified_phone'),
  ]);
  const { total, rows } = await countAndPage<ReviewRow>(knex, q, ids, row, 'request_id');
  return pageOf(
    rows.map((r: ReviewRow) => ({ ...r, fee: feeOf(r) })),
    total,
    f.page,
  );
}

/** How many requests wait for this staff member (the badge in the menu). */
export async function pendingReviewCount(knex: Knex, user: CurrentUser): Promise<number> {
  if (user.role === 'parent') return 0;
  const { rows } = await knex.raw<{ rows: { n: number }[] }>(
    `select ${PENDING_REVIEW_COUNT_SQL} as n from (select ?::int as id, ?::text as role, ?::int as school_id) acc`,
    [user.accountId, user.role, user.schoolId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** One subscription (scoped) with its requests and its events, oldest first; undefined when not visible. */
export async function subscriptionHistory(knex: Knex, user: CurrentUser, subscriptionId: number, today: string) {
  const sub = (await withNames(baseSubscriptions(knex, user)).where('s.id', subscriptionId).first(ROW_COLUMNS)) as
    | SubscriptionRow
    | undefined;
  if (!sub) return undefined;
  const requests = await knex('review_requests')
    .where('subscription_id', subscriptionId)
    .orderBy('id')
    .limit(200)
    .select(
      'id',
      'kind',
      'status',
      'requested_by_name',
      'requested_on',
      'decided_at',
      'decision_reason',
      'effective_on',
      'refund_amount',
      'refund_paid_on',
    );
  const events = await knex('subscription_events as e')
    .leftJoin('review_requests as er', 'er.id', 'e.request_id')
    .where('e.subscription_id', subscriptionId)
    .orderBy('e.id')
    .limit(500)
    .select(
      'e.id',
      'e.request_id',
      'e.event',
      'e.from_status',
      'e.to_status',
      'e.actor_role',
      'e.actor_name',
      'e.reason',
      'e.created_at',
      'er.kind as request_kind',
      'er.effective_on',
    );
  return { sub: { ...sub, display: displayState(sub, sub, today), fee: feeOf(sub) }, requests, events };
}

/** The choices of the filters: the classes and periods the user may see, and the fixed 行政區/級別/學校. */
export async function filterOptions(knex: Knex, user: CurrentUser) {
  const classQuery =
    user.role === 'parent'
      ? knex('classes as c').whereIn(
          'c.id',
          knex('students as fs').whereIn('fs.id', visibleStudentIds(knex, user)).select('fs.class_id'),
        )
      : knex('classes as c').whereIn('c.id', visibleClassIds(knex, user)).where('c.school_id', user.schoolId);
  const schoolIds = user.role === 'parent' ? [...new Set(user.children.map((c) => c.schoolId))] : [user.schoolId];
  const schoolId = user.role === 'parent' ? (user.currentChild?.schoolId ?? user.schoolId) : user.schoolId;
  // The three lists in one round trip, each an ordered subquery aggregated to JSON in its own order.
  const row = (await prepared(
    knex.select({
      classes: knex.raw(`(select coalesce(json_agg(x order by x.school_year, x.code), '[]') from (?) x)`, [
        classQuery.orderBy(['c.school_year', 'c.code']).limit(500).select('c.id', 'c.name', 'c.code', 'c.school_year'),
      ]),
      periods: knex.raw(`(select coalesce(json_agg(x order by x.starts_on desc, x.id), '[]') from (?) x)`, [
        knex('service_periods')
          .whereIn('school_id', schoolIds)
          .orderBy('starts_on', 'desc')
          .limit(200)
          .select('id', 'name', 'starts_on'),
      ]),
      school: knex.raw('(select row_to_json(x) from (?) x)', [
        knex('schools as sc')
          .join('districts as d', 'd.id', 'sc.district_id')
          .join('school_levels as l', 'l.code', 'sc.level')
          .where('sc.id', schoolId)
          .select('sc.id', 'sc.name', 'd.name as district_name', 'l.name as level_name'),
      ]),
    }),
  ).first()) as {
    classes: { id: number; name: string; code: string }[];
    periods: { id: number; name: string }[];
    school: { id: number; name: string; district_name: string; level_name: string } | null;
  };
  return {
    classes: row.classes.map((c) => ({ id: c.id, name: c.name, code: c.code })),
    periods: row.periods.map((p) => ({ id: p.id, name: p.name })),
    school: row.school ?? undefined,
  };
}
