/**
 * The SMS subscription lifecycle (docs/product.md) as pure functions: no database, no Express, no clock.
 * Every date is a Taipei calendar date 'YYYY-MM-DD'; "today" is always passed in.
 *
 *             order                      cancel                       approve → effective next day
 *  (none) ─────────────► pending ─approve─► active ─────────────► cancel_pending ──────────────► cancelled
 *                          │                  ▲                       │
 *                          │                  └── withdraw / reject ──┘
 *                          ├── reject ──► rejected
 *                          └── withdraw ► withdrawn
 */
import { addDays } from '../time.js';
import { countSchoolDays } from '../schools/school-calendar.js';
import { ROLE_LABELS } from '../vocabulary.js';

export const STATUSES = ['pending', 'active', 'cancel_pending', 'cancelled', 'rejected', 'withdrawn'] as const;
export type SubscriptionStatus = (typeof STATUSES)[number];
/** The stored statuses of an order that was approved (it may since have been cancelled): what is charged, what can send. */
export const APPROVED_STATUSES = [
  'active',
  'cancel_pending',
  'cancelled',
] as const satisfies readonly SubscriptionStatus[];
export const isApprovedStatus = (status: string): boolean => (APPROVED_STATUSES as readonly string[]).includes(status);
export const EVENTS = ['order', 'approve', 'reject', 'cancel', 'withdraw'] as const;
export type LifecycleEvent = (typeof EVENTS)[number];
export type ActorRole = 'parent' | 'teacher' | 'school_admin';
export const ROLES: readonly ActorRole[] = ['parent', 'teacher', 'school_admin'];
export type RequestKind = 'order' | 'cancellation';
export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'withdrawn';

/**
 * Who fires an event: the role, and whether the actor is related to the subscription's student — the parent of
 * that child, the teacher of that class, the admin of that school. An unrelated actor never learns it exists.
 */
export interface Actor {
  role: ActorRole;
  related: boolean;
}

/** Which roles may fire each event (when related). */
export const ALLOWED_ROLES: Record<LifecycleEvent, readonly ActorRole[]> = {
  order: ['parent'],
  cancel: ['parent'],
  withdraw: ['parent'],
  approve: ['teacher', 'school_admin'],
  reject: ['teacher', 'school_admin'],
};

/** The transitions: from (null = no subscription yet) → to, and the review request each concerns. */
const TRANSITIONS: Record<LifecycleEvent, Partial<Record<SubscriptionStatus | 'none', SubscriptionStatus>>> = {
  order: { none: 'pending' },
  approve: { pending: 'active', cancel_pending: 'cancelled' },
  reject: { pending: 'rejected', cancel_pending: 'active' },
  cancel: { active: 'cancel_pending' },
  withdraw: { pending: 'withdrawn', cancel_pending: 'active' },
};

export type Refusal =
  | 'not_found' // unrelated actor: answer as if it did not exist (404)
  | 'not_allowed' // related, but this role may not do this
  | 'invalid' // not from this state
  | 'expired' // the period has ended
  | 'reason_required'; // reject without a reason

export type Decision =
  | {
      ok: true;
      from: SubscriptionStatus | null;
      to: SubscriptionStatus;
      requestKind: RequestKind;
      requestStatus: RequestStatus;
    }
  | { ok: false; refusal: Refusal; message: string };

export const MESSAGES: Record<Refusal, string> = {
  not_found: '找不到您要的資料',
  not_allowed: '您的身分無法執行此操作。',
  invalid: '此申請已處理，目前的狀態無法執行此操作。',
  expired: '此簡訊服務期間已結束（已到期），無法執行此操作。',
  reason_required: '退回時請填寫原因。',
};

/** Decide one event. `expired`: the subscription's period has ended (ends_on < today). */
export function decide(
  from: SubscriptionStatus | null,
  event: LifecycleEvent,
  actor: Actor,
  ctx: { expired?: boolean; reason?: string | undefined } = {},
): Decision {
  const refuse = (refusal: Refusal): Decision => ({ ok: false, refusal, message: MESSAGES[refusal] });
  if (!actor.related) return refuse('not_found');
  if (!ALLOWED_ROLES[event].includes(actor.role)) return refuse('not_allowed');
  const to = TRANSITIONS[event][from ?? 'none'];
  if (to === undefined) return refuse('invalid');
  if (ctx.expired && (event === 'order' || event === 'cancel' || (event === 'approve' && from === 'pending')))
    return refuse('expired');
  if (event === 'reject' && !(ctx.reason ?? '').trim()) return refuse('reason_required');
  const requestKind: RequestKind = event === 'order' || from === 'pending' ? 'order' : 'cancellation';
  const requestStatus: RequestStatus =
    event === 'approve' ? 'approved' : event === 'reject' ? 'rejected' : event === 'withdraw' ? 'withdrawn' : 'pending';
  return { ok: true, from, to, requestKind, requestStatus };
}

/** Approved on Taipei day D → effective from D+1. */
export function effectiveDateFor(approvedOn: string): string {
  return addDays(approvedOn, 1);
}

export interface PeriodDates {
  starts_on: string;
  ends_on: string;
}

/**
 * The day an approval made on Taipei day D takes effect: D+1 — except an order for a period still to come,
 * which takes effect on the period's first day (it cannot send before). Stored on the request and the
 * subscription, and said by every message (never "隔日" for such an order).
 */
export function approvalEffectiveDate(kind: RequestKind, approvedOn: string, period: PeriodDates): string {
  const next = effectiveDateFor(approvedOn);
  return kind === 'order' && period.starts_on > next ? period.starts_on : next;
}
export interface SubscriptionDates {
  status: SubscriptionStatus;
  effective_on: string | null;
  cancelled_on: string | null;
  /** A rejected order: the teacher's reason, shown with 已退回 (optional: the dates alone decide the state). */
  rejection_reason?: string | null;
}

export const isExpired = (period: PeriodDates, today: string): boolean => period.ends_on < today;

/**
 * Does this subscription send SMS on `date`? (from the stored status and dates; nothing flips at night)
 * Its SQL twin: lifecycle-sql.ts inEffectOn.
 */
export function isEffectiveOn(sub: SubscriptionDates, period: PeriodDates, date: string): boolean {
  return (
    isApprovedStatus(sub.status) &&
    sub.effective_on !== null &&
    sub.effective_on <= date &&
    (sub.cancelled_on === null || sub.cancelled_on > date) &&
    period.starts_on <= date &&
    date <= period.ends_on
  );
}

/** May the parent press 註銷 today? Active and the period not over. */
export function canCancel(sub: SubscriptionDates, period: PeriodDates, today: string): boolean {
  return sub.status === 'active' && !isExpired(period, today);
}

export type DisplayKey =
  | 'pending'
  | 'approved'
  | 'active'
  | 'cancel_pending'
  | 'cancel_approved'
  | 'cancelled'
  | 'rejected'
  | 'withdrawn'
  | 'expired';
export interface DisplayState {
  key: DisplayKey;
  label: string;
}

/**
 * The words of every state, once (docs/product.md): pages, filters, CSV and reports take them from here.
 * `approved` and `cancel_approved` are the short forms; a row says them with their date (approvedLabel,
 * cancelApprovedLabel).
 */
export const STATE_LABELS: Record<DisplayKey, string> = {
  pending: '審核中',
  approved: '已核准',
  active: '生效',
  cancel_pending: '註銷審核中',
  cancel_approved: '註銷已核准',
  cancelled: '已註銷',
  rejected: '已退回',
  withdrawn: '已取消',
  expired: '已到期',
};

/** 狀態 of a review request (訂購申請 / 註銷申請). */
export const REQUEST_STATUS_LABELS: Record<RequestStatus, string> = {
  pending: '審核中',
  approved: '已核准',
  rejected: '已退回',
  withdrawn: '已取消',
};

export const REQUEST_KIND_LABELS: Record<RequestKind, string> = { order: '訂購申請', cancellation: '註銷申請' };

/** An approved order (or, on 到離校簡訊註銷服務, an approved cancellation) and the day it takes effect. */
export const approvedLabel = (date: string): string => `已核准，${date} 生效`;
/** On 到離校簡訊訂購服務: a cancellation approved, still sending until `date`, the first day without SMS. */
export const cancelApprovedLabel = (date: string): string => `註銷已核准，${date} 起停止`;

/** An approval as the order list words it: an order `已核准，D 生效`, a cancellation `註銷已核准，D 起停止`. */
export function approvalLabel(kind: RequestKind, effectiveOn: string): string {
  return kind === 'order' ? approvedLabel(effectiveOn) : cancelApprovedLabel(effectiveOn);
}

/** 申請狀態 as the order list shows it on `today`. Its SQL twin: lifecycle-sql.ts shownAs. */
export function displayState(sub: SubscriptionDates, period: PeriodDates, today: string): DisplayState {
  const plain = (key: DisplayKey): DisplayState => ({ key, label: STATE_LABELS[key] });
  switch (sub.status) {
    case 'rejected':
      return { key: 'rejected', label: rejectedLabel(sub.rejection_reason ?? null) };
    case 'withdrawn':
      return plain('withdrawn');
    case 'cancelled':
      // A cancellation that takes effect only after the period's last day stopped nothing: the period ran out.
      if (ranToPeriodEnd(sub, period) && isExpired(period, today)) return plain('expired');
      if (sub.cancelled_on !== null && sub.cancelled_on > today && !isExpired(period, today))
        return { key: 'cancel_approved', label: cancelApprovedLabel(sub.cancelled_on) };
      return plain('cancelled');
    default:
      break;
  }
  if (isExpired(period, today)) return plain('expired');
  if (sub.status === 'pending') return plain('pending');
  if (sub.status === 'cancel_pending') return plain('cancel_pending');
  // An approved order of a period still to come starts sending on the period's first day.
  const startsSending =
    sub.effective_on !== null && sub.effective_on > period.starts_on ? sub.effective_on : period.starts_on;
  if (startsSending > today) return { key: 'approved', label: approvedLabel(startsSending) };
  return plain('active');
}

/** A cancelled subscription whose cancellation takes effect after its period's last day: it sent to the end. */
export function ranToPeriodEnd(sub: SubscriptionDates, period: PeriodDates): boolean {
  return sub.status === 'cancelled' && sub.cancelled_on !== null && sub.cancelled_on > period.ends_on;
}

export type ReportKey = 'active' | 'pending' | 'cancel_pending' | 'cancelled' | 'rejected' | 'withdrawn' | 'expired';

/**
 * The state 統計報表 (各班訂購狀態) counts a subscription under on `today`: the order list's 申請狀態
 * (displayState), except that a cancellation approved but not yet in effect (D, before D+1) still counts as
 * 生效 — it sends until then — as does an approved order waiting for its first day.
 */
export function reportState(sub: SubscriptionDates, period: PeriodDates, today: string): ReportKey {
  const key = displayState(sub, period, today).key;
  return key === 'approved' || key === 'cancel_approved' ? 'active' : key;
}

/** 註銷狀態 of a cancellation request. */
export function cancellationLabel(r: {
  status: RequestStatus;
  effective_on: string | null;
  decision_reason: string | null;
}): string {
  switch (r.status) {
    case 'approved':
      return r.effective_on ? approvedLabel(r.effective_on) : REQUEST_STATUS_LABELS.approved;
    case 'rejected':
      return rejectedLabel(r.decision_reason);
    case 'pending':
    case 'withdrawn':
      return REQUEST_STATUS_LABELS[r.status];
  }
}

/**
 * What the parent's 首頁 says of a decision: `訂購申請已核准，D 生效`, `註銷申請已核准，D 起停止` (the refund is
 * said beside it, as stored on the cancellation), `訂購申請已退回` / `註銷申請已退回` (the reason beside it).
 */
export function decisionLabel(kind: RequestKind, status: 'approved' | 'rejected', effectiveOn: string | null): string {
  if (status === 'rejected') return `${REQUEST_KIND_LABELS[kind]}${STATE_LABELS.rejected}`;
  if (!effectiveOn) return `${REQUEST_KIND_LABELS[kind]}${STATE_LABELS.approved}`;
  return kind === 'order'
    ? `${REQUEST_KIND_LABELS.order}${approvedLabel(effectiveOn)}`
    : `${REQUEST_KIND_LABELS.cancellation}已核准，${effectiveOn} 起停止`;
}

/** A rejection with the teacher's reason, as both lists show it: `已退回（原因）`. */
export function rejectedLabel(reason: string | null): string {
  return reason ? `${STATE_LABELS.rejected}（${reason}）` : STATE_LABELS.rejected;
}

/**
 * The 新狀態 of one transition in a request's history (申請紀錄): an approval is recorded as approved with its
 * effective date — not as already in effect — and the other transitions by the state they led to.
 */
export function transitionLabel(e: {
  event: LifecycleEvent;
  to_status: SubscriptionStatus;
  request_kind: RequestKind | null;
  effective_on: string | null;
}): string {
  if (e.event === 'approve' && e.request_kind && e.effective_on) return approvalLabel(e.request_kind, e.effective_on);
  return SUBSCRIPTION_STATUS_LABELS[e.to_status];
}

/** The stored subscription status in words (the history's 原狀態). */
export const SUBSCRIPTION_STATUS_LABELS: Record<SubscriptionStatus, string> = {
  pending: STATE_LABELS.pending,
  active: STATE_LABELS.active,
  cancel_pending: STATE_LABELS.cancel_pending,
  cancelled: STATE_LABELS.cancelled,
  rejected: STATE_LABELS.rejected,
  withdrawn: STATE_LABELS.withdrawn,
};

export interface FeeInput {
  arrival: boolean;
  departure: boolean;
  arrival_fee: number;
  departure_fee: number;
}

/** The fee of the subscribed items. */
export function feeOf(s: FeeInput): number {
  return (s.arrival ? s.arrival_fee : 0) + (s.departure ? s.departure_fee : 0);
}

/** The amount of a span and the school days it counts: S of the period's P. */
export interface DayAmount {
  amount: number;
  days: number;
  periodDays: number;
}

/** The amount for S school days of a period with P: floor(fee of the items × S ÷ P); 0 for a period without school days. */
export function spanAmount(fee: number, days: number, periodDays: number): number {
  return periodDays > 0 ? Math.floor((fee * days) / periodDays) : 0;
}

/**
 * What an order that takes effect on `effectiveOn` is charged (應繳): the whole fee from the period's first day
 * or before; the amount for its remaining school days (from the effective date to the period's end) after the
 * period started; 0 after it ended. `holidays`: the school's holidays over the period (school-calendar).
 */
export function orderCharge(
  fee: number,
  period: PeriodDates,
  effectiveOn: string,
  holidays: ReadonlySet<string>,
): DayAmount {
  const periodDays = countSchoolDays(period.starts_on, period.ends_on, holidays);
  if (effectiveOn <= period.starts_on) return { amount: fee, days: periodDays, periodDays };
  if (effectiveOn > period.ends_on) return { amount: 0, days: 0, periodDays };
  const days = countSchoolDays(effectiveOn, period.ends_on, holidays);
  return { amount: spanAmount(fee, days, periodDays), days, periodDays };
}

/**
 * 退費 of a cancellation that takes effect on `effectiveOn`: the amount for the school days from that date to the
 * period's end (never more than the order was charged); everything charged if it takes effect on or before the
 * period's first day; 0 after its last day.
 */
export function refundAmount(
  fee: number,
  charged: DayAmount,
  period: PeriodDates,
  effectiveOn: string,
  holidays: ReadonlySet<string>,
): DayAmount {
  if (effectiveOn <= period.starts_on) return { ...charged };
  const periodDays = countSchoolDays(period.starts_on, period.ends_on, holidays);
  if (effectiveOn > period.ends_on) return { amount: 0, days: 0, periodDays };
  const days = countSchoolDays(effectiveOn, period.ends_on, holidays);
  return { amount: Math.min(charged.amount, spanAmount(fee, days, periodDays)), days, periodDays };
}

export interface StoredCharge {
  charge_amount: number | null;
  charge_days: number | null;
  charge_period_days: number | null;
}

/** What an approved order was charged: as stored at its approval, else (approved before charges were stored) the whole fee. */
export function chargedOf(s: FeeInput & PeriodDates & StoredCharge, holidays: ReadonlySet<string>): DayAmount {
  if (s.charge_amount !== null && s.charge_days !== null && s.charge_period_days !== null)
    return { amount: s.charge_amount, days: s.charge_days, periodDays: s.charge_period_days };
  return orderCharge(feeOf(s), s, s.starts_on, holidays);
}

/** The arithmetic as the pages show it: `NT$300 × 48 ÷ 92 個上學日 = NT$156`. */
export function dayAmountFormula(fee: number, a: DayAmount): string {
  const nt = (n: number) => `NT$${n.toLocaleString('en-US')}`;
  return `${nt(fee)} × ${a.days} ÷ ${a.periodDays} 個上學日 = ${nt(a.amount)}`;
}

/** Periods a parent may order today: the current one (today inside it) and the ones still to come. */
export function isOrderable(period: PeriodDates, today: string): boolean {
  return period.ends_on >= today;
}

export const ITEM_LABELS = { arrival: '到校SMS', departure: '離校SMS' } as const;

export function itemsLabel(s: { arrival: boolean; departure: boolean }): string {
  return [s.arrival ? ITEM_LABELS.arrival : '', s.departure ? ITEM_LABELS.departure : ''].filter(Boolean).join(' ');
}

// The lists' filter choices, in the words above.

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

/** The 狀態 filter of 到離校簡訊註銷服務: the cancellation request's status. */
export const CANCELLATION_STATUS_OPTIONS = [
  ['pending', REQUEST_STATUS_LABELS.pending],
  ['approved', REQUEST_STATUS_LABELS.approved],
  ['rejected', REQUEST_STATUS_LABELS.rejected],
  ['withdrawn', REQUEST_STATUS_LABELS.withdrawn],
] as const;
export type CancellationStatusFilter = (typeof CANCELLATION_STATUS_OPTIONS)[number][0];

/** 申請人員: who asked (a parent on the portal, or the bureau's operators through a script). */
export const APPLICANT_OPTIONS = [
  ['parent', ROLE_LABELS.parent],
  ['system', ROLE_LABELS.system],
] as const;
export type ApplicantFilter = (typeof APPLICANT_OPTIONS)[number][0];

/** 申請類別 (審核). */
export const KIND_OPTIONS = [
  ['order', REQUEST_KIND_LABELS.order],
  ['cancellation', REQUEST_KIND_LABELS.cancellation],
] as const;
