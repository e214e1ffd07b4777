/**
 * The read side of the SMS service: the order list, the cancellation list, the review queue, a subscription's
 * history, the review count for the menu. Every query carries the user's scope in its WHERE and a LIMIT.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleClassIds, visibleSchoolIds, visibleStudentIds } from '../scope.js';
import { hasVerifiedPhoneSql } from '../phones/phone-service.js';
import {
  cancellationLabel,
  canCancel,
  displayState,
  feeOf,
  REQUEST_STATUS_LABELS,
  STATE_LABELS,
  type DisplayState,
  type RequestStatus,
  type SubscriptionStatus,
} from './lifecycle.js';

export const PAGE_SIZE = 50;

/** The 狀態 filter of 到離校簡訊訂購服務: one choice per 申請狀態 the list shows (lifecycle.displayState). */
export const ORDER_STATUS_OPTIONS = [
  ['pending', STATE_LABELS.pending],
  ['active', STATE_LABELS.active],
  ['approved', `${STATE_LABELS.approved}（尚未生效）`],
  ['cancel_pending', STATE_LABELS.cancel_pending],
  ['cancel_approved', `${STATE_LABELS.cancel_approved}（尚未停止）`],
  ['cancelled', STATE_LABELS.cancelled],
  ['rejected', STATE_LABELS.rejected],
  ['withdrawn', STATE_LABELS.withdrawn],
  ['expired', STATE_LABELS.expired],
] as const;
export type OrderStatusFilter = (typeof ORDER_STATUS_OPTIONS)[number][0];

export const CANCELLATION_STATUS_OPTIONS = [
  ['pending', REQUEST_STATUS_LABELS.pending],
  ['approved', REQUEST_STATUS_LABELS.approved],
  ['rejected', REQUEST_STATUS_LABELS.rejected],
  ['withdrawn', REQUEST_STATUS_LABELS.withdrawn],
] as const;
export type CancellationStatusFilter = (typeof CANCELLATION_STATUS_OPTIONS)[number][0];

export const APPLICANT_OPTIONS = [
  ['parent', '家長'],
  ['system', '系統管理員'],
] as const;
export type ApplicantFilter = (typeof APPLICANT_OPTIONS)[number][0];

export const KIND_OPTIONS = [
  ['order', '訂購申請'],
  ['cancellation', '註銷申請'],
] as const;

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

function baseSubscriptions(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  return knex('subscriptions as s')
    .join('students as st', 'st.id', 's.student_id')
    .join('classes as c', 'c.id', 'st.class_id')
    .join('schools as sc', 'sc.id', 'st.school_id')
    .join('service_periods as p', 'p.id', 's.period_id')
    .whereIn('s.school_id', visibleSchoolIds(user))
    .whereIn('s.student_id', visibleStudentIds(knex, user));
}

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

export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  from: number;
  to: number;
  lastPage: number;
}

function pageOf<T>(rows: T[], total: number, page: number): Page<T> {
  const from = total === 0 || rows.length === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  return { rows, total, page, from, to: from === 0 ? 0 : from + rows.length - 1, lastPage: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
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
  const startsSending = knex.raw('greatest(s.effective_on, p.starts_on)');
  switch (f.status) {
    case undefined:
      break;
    case 'expired':
      // lifecycle.displayState: an ended period, or a cancellation that took effect only after it (ranToPeriodEnd).
      q.where('p.ends_on', '<', today).where((w) =>
        w
          .whereIn('s.status', ['pending', 'active', 'cancel_pending'])
          .orWhere((c) => c.where('s.status', 'cancelled').whereRaw('s.cancelled_on > p.ends_on')),
      );
      break;
    case 'pending':
    case 'cancel_pending':
      q.where('s.status', f.status).where('p.ends_on', '>=', today);
      break;
    case 'active':
      q.where('s.status', 'active').where('p.ends_on', '>=', today).where(startsSending, '<=', today);
      break;
    case 'approved':
      q.where('p.ends_on', '>=', today).where('s.status', 'active').where(startsSending, '>', today);
      break;
    case 'cancel_approved':
      q.where('p.ends_on', '>=', today).where('s.status', 'cancelled').where('s.cancelled_on', '>', today);
      break;
    case 'cancelled':
      q.where('s.status', 'cancelled').where('s.cancelled_on', '<=', today).whereRaw('s.cancelled_on <= p.ends_on');
      break;
    default:
      q.where('s.status', f.status);
  }
  const countRow = await q.clone().count<{ count: string | number }[]>('* as count').first();
  const total = Number(countRow?.count ?? 0);
  const rows = await q
    .clone()
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
    ])
    .orderBy('s.id')
    .limit(PAGE_SIZE)
    .offset((f.page - 1) * PAGE_SIZE);
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

export interface CancellationRow extends Omit<SubscriptionRow, 'display' | 'cancellable' | 'open_request_id' | 'open_request_kind'> {
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

/** 到離校簡訊註銷服務: the cancellation requests in the user's scope, 50 a page. */
export async function listCancellations(
  knex: Knex,
  user: CurrentUser,
  f: CommonFilters & { status?: CancellationStatusFilter | undefined },
): Promise<Page<CancellationRow>> {
  const q = baseSubscriptions(knex, user).join('review_requests as r', 'r.subscription_id', 's.id').where('r.kind', 'cancellation');
  applyCommon(q, f);
  if (f.status) q.where('r.status', f.status);
  const countRow = await q.clone().count<{ count: string | number }[]>('* as count').first();
  const total = Number(countRow?.count ?? 0);
  const rows = await q
    .clone()
    .select([
      ...ROW_COLUMNS,
      'r.id as request_id',
      'r.status as request_status',
      'r.requested_by_name',
      'r.requested_on',
      'r.effective_on as request_effective_on',
      'r.decision_reason',
      'r.refund_amount',
      'r.refund_paid_on',
    ])
    .orderBy('r.id', 'desc')
    .limit(PAGE_SIZE)
    .offset((f.page - 1) * PAGE_SIZE);
  return pageOf(
    rows.map((r: CancellationRow) => ({
      ...r,
      fee: feeOf(r),
      label: cancellationLabel({ status: r.request_status, effective_on: r.request_effective_on, decision_reason: r.decision_reason }),
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
  const q = baseSubscriptions(knex, user).join('review_requests as r', 'r.subscription_id', 's.id').where('r.status', 'pending');
  if (f.classId !== undefined) q.where('st.class_id', f.classId);
  if (f.kind) q.where('r.kind', f.kind);
  const countRow = await q.clone().count<{ count: string | number }[]>('* as count').first();
  const total = Number(countRow?.count ?? 0);
  const rows = await q
    .clone()
    .select([
      ...ROW_COLUMNS,
      'st.class_id',
      'r.id as request_id',
      'r.kind',
      'r.status as request_status',
      'r.requested_by_name',
      'r.requested_on',
      hasVerifiedPhoneSql(knex, 'st.id').wrap('', ' as has_verified_phone'),
    ])
    .orderBy('r.id')
    .limit(PAGE_SIZE)
    .offset((f.page - 1) * PAGE_SIZE);
  return pageOf(
    rows.map((r: ReviewRow) => ({ ...r, fee: feeOf(r) })),
    total,
    f.page,
  );
}

/** How many requests wait for this staff member (the badge in the menu). */
export async function pendingReviewCount(knex: Knex, user: CurrentUser): Promise<number> {
  if (user.role === 'parent') return 0;
  const row = await knex('review_requests as r')
    .join('subscriptions as s', 's.id', 'r.subscription_id')
    .where('r.status', 'pending')
    .whereIn('s.school_id', visibleSchoolIds(user))
    .whereIn('s.student_id', visibleStudentIds(knex, user))
    .count<{ count: string | number }[]>('* as count')
    .first();
  return Number(row?.count ?? 0);
}

/** One subscription (scoped) with its requests and its events, oldest first; undefined when not visible. */
export async function subscriptionHistory(knex: Knex, user: CurrentUser, subscriptionId: number, today: string) {
  const sub = (await baseSubscriptions(knex, user).where('s.id', subscriptionId).first(ROW_COLUMNS)) as SubscriptionRow | undefined;
  if (!sub) return undefined;
  const requests = await knex('review_requests')
    .where('subscription_id', subscriptionId)
    .orderBy('id')
    .limit(200)
    .select('id', 'kind', 'status', 'requested_by_name', 'requested_on', 'decided_at', 'decision_reason', 'effective_on', 'refund_amount', 'refund_paid_on');
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
      ? knex('classes as c').whereIn('c.id', knex('students as fs').whereIn('fs.id', visibleStudentIds(knex, user)).select('fs.class_id'))
      : knex('classes as c').whereIn('c.id', visibleClassIds(knex, user));
  const classes = (await classQuery.orderBy(['c.school_year', 'c.code']).limit(500).select('c.id', 'c.name', 'c.code')) as {
    id: number;
    name: string;
    code: string;
  }[];
  const schoolIds = user.role === 'parent' ? [...new Set(user.children.map((c) => c.schoolId))] : [user.schoolId];
  const periods = (await knex('service_periods')
    .whereIn('school_id', schoolIds)
    .orderBy('starts_on', 'desc')
    .limit(200)
    .select('id', 'name')) as { id: number; name: string }[];
  const schoolId = user.role === 'parent' ? (user.currentChild?.schoolId ?? user.schoolId) : user.schoolId;
  const school = (await knex('schools as sc')
    .join('districts as d', 'd.id', 'sc.district_id')
    .join('school_levels as l', 'l.code', 'sc.level')
    .where('sc.id', schoolId)
    .first('sc.id', 'sc.name', 'd.name as district_name', 'l.name as level_name')) as
    | { id: number; name: string; district_name: string; level_name: string }
    | undefined;
  return { classes, periods, school };
}
