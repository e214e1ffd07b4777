/**
 * The read side of the money: what each order is charged (應繳) and its 繳費狀態 for the lists, a class's orders
 * for 繳費管理 and its 繳費通知單, one payment's 收據, a class's refund list (退費清單). Every query carries the
 * user's scope in its WHERE; what is not visible answers undefined / 404.
 */
import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleClassIds, visibleStudentIds } from '../scope.js';
import { loadHolidays } from '../schools/school-calendar.js';
import {
  APPROVED_STATUSES,
  chargedOf,
  dayAmountFormula,
  feeOf,
  isApprovedStatus,
  itemsLabel,
  type DayAmount,
  type FeeInput,
  type PeriodDates,
  type StoredCharge,
} from '../subscriptions/lifecycle.js';
import { MONEY_COLUMNS } from '../subscriptions/lifecycle-sql.js';
import { paymentStatusLabel, receiptLabel } from './payments.js';

export interface PaymentInfo {
  id: number;
  paid_on: string;
  receipt_number: number;
  amount: number;
  receipt: string;
}

export interface OrderMoney {
  fee: number;
  /** What the approved order is charged, with its school days; undefined while the order is not approved. */
  charge?: DayAmount;
  /** `NT$300 × 48 ÷ 92 個上學日 = NT$156` */
  formula?: string;
  payment?: PaymentInfo;
  /** 未繳費 / 已繳費 D 收據號碼 N (only for an approved order). */
  paymentStatus?: string;
}

type ChargeRow = FeeInput & PeriodDates & StoredCharge & { school_id: number; period_id: number };

/** Charges of approved orders: stored ones as they are; older ones (the whole fee) counted on the school's calendar. */
async function chargesOf<T extends ChargeRow>(knex: Knex, rows: readonly T[]): Promise<Map<T, DayAmount>> {
  const holidays = new Map<number, Set<string>>();
  const out = new Map<T, DayAmount>();
  for (const r of rows) {
    if (r.charge_amount === null && !holidays.has(r.period_id))
      holidays.set(r.period_id, await loadHolidays(knex, r.school_id, r.starts_on, r.ends_on));
    out.set(r, chargedOf(r, holidays.get(r.period_id) ?? new Set()));
  }
  return out;
}

function paymentOf(r: {
  payment_id: number | null;
  paid_on: string | null;
  receipt_number: number | null;
  paid_amount: number | null;
}): PaymentInfo | undefined {
  if (r.payment_id === null || r.paid_on === null || r.receipt_number === null || r.paid_amount === null)
    return undefined;
  return {
    id: r.payment_id,
    paid_on: r.paid_on,
    receipt_number: r.receipt_number,
    amount: r.paid_amount,
    receipt: receiptLabel(r.receipt_number),
  };
}

const PAYMENT_COLUMNS = ['pm.id as payment_id', 'pm.paid_on', 'pm.receipt_number', 'pm.amount as paid_amount'];

/**
 * The money of subscriptions already read by a scoped list (the ids come from that list): subscription id → fee,
 * charge with its days and 繳費狀態.
 */
export async function moneyOfSubscriptions(
  knex: Knex,
  subscriptionIds: readonly number[],
): Promise<Map<number, OrderMoney>> {
  const out = new Map<number, OrderMoney>();
  if (subscriptionIds.length === 0) return out;
  const rows = await knex('subscriptions as s')
    .join('service_periods as p', 'p.id', 's.period_id')
    .leftJoin('payments as pm', 'pm.subscription_id', 's.id')
    .whereIn('s.id', [...new Set(subscriptionIds)])
    .select(['s.id', ...MONEY_COLUMNS, ...PAYMENT_COLUMNS]);
  const approved = rows.filter((r) => isApprovedStatus(r.status));
  const charges = await chargesOf(knex, approved);
  for (const r of rows) {
    const fee = feeOf(r);
    const charge = charges.get(r);
    const payment = paymentOf(r);
    out.set(r.id as number, {
      fee,
      ...(charge
        ? { charge, formula: dayAmountFormula(fee, charge), paymentStatus: paymentStatusLabel(payment ?? undefined) }
        : {}),
      ...(payment ? { payment } : {}),
    });
  }
  return out;
}

/** The school days counted by approved cancellations' refunds: request id → { days, periodDays } (when stored). */
export async function refundDaysOf(
  knex: Knex,
  requestIds: readonly number[],
): Promise<Map<number, { days: number; periodDays: number }>> {
  const out = new Map<number, { days: number; periodDays: number }>();
  if (requestIds.length === 0) return out;
  const rows = await knex('review_requests')
    .whereIn('id', [...new Set(requestIds)])
    .whereNotNull('refund_days')
    .select('id', 'refund_days', 'refund_period_days');
  for (const r of rows)
    out.set(r.id as number, { days: r.refund_days as number, periodDays: r.refund_period_days as number });
  return out;
}

export interface ClassInfo {
  id: number;
  name: string;
  code: string;
  school_name: string;
}

/** The classes this staff member may see, for a class picker. */
export async function visibleClasses(knex: Knex, user: CurrentUser): Promise<ClassInfo[]> {
  return (await knex('classes as c')
    .join('schools as sc', 'sc.id', 'c.school_id')
    .whereIn('c.id', visibleClassIds(knex, user))
    .orderBy(['c.school_year', 'c.code'])
    .limit(500)
    .select('c.id', 'c.name', 'c.code', 'sc.name as school_name')) as ClassInfo[];
}

/** One class in the user's scope, or 404. */
export async function classInScope(knex: Knex, user: CurrentUser, classId: number): Promise<ClassInfo> {
  const c = (await knex('classes as c')
    .join('schools as sc', 'sc.id', 'c.school_id')
    .where('c.id', classId)
    .whereIn('c.id', visibleClassIds(knex, user))
    .first('c.id', 'c.name', 'c.code', 'sc.name as school_name')) as ClassInfo | undefined;
  if (!c) throw new NotFoundError();
  return c;
}

/** The student and the period a row of money names (繳費管理, 繳費通知單, 收據, 退費清單). */
export interface StudentOfRow {
  student_name: string;
  student_number: string;
  seat_number: number;
  period_name: string;
}
const STUDENT_COLUMNS = ['st.name as student_name', 'st.student_number', 'st.seat_number', 'p.name as period_name'];
const studentOf = (r: StudentOfRow): StudentOfRow => ({
  student_name: r.student_name,
  student_number: r.student_number,
  seat_number: r.seat_number,
  period_name: r.period_name,
});
/** The student, period and payment of a class list's row. */
const CLASS_ROW_COLUMNS = [...STUDENT_COLUMNS, ...PAYMENT_COLUMNS];

/**
 * Narrow `q` to a class's subscriptions (`s`) in the user's scope, with the student, the period and the payment, by
 * period (latest first) and seat, then `tiebreak`.
 */
function ofClass(q: Knex.QueryBuilder, knex: Knex, user: CurrentUser, cls: ClassInfo, tiebreak: string): void {
  q.join('students as st', 'st.id', 's.student_id')
    .join('service_periods as p', 'p.id', 's.period_id')
    .leftJoin('payments as pm', 'pm.subscription_id', 's.id')
    .where('st.class_id', cls.id)
    .whereIn('s.student_id', visibleStudentIds(knex, user))
    .orderBy([{ column: 'p.starts_on', order: 'desc' }, 'st.seat_number', tiebreak])
    .limit(1000);
}

export interface ClassOrder extends StudentOfRow {
  subscription_id: number;
  status: string;
  starts_on: string;
  ends_on: string;
  applied_on: string;
  effective_on: string | null;
  items: string;
  fee: number;
  charge: DayAmount;
  formula: string;
  payment?: PaymentInfo;
  paymentStatus: string;
}

/** A class's approved orders (繳費管理, 繳費通知單), by period (latest first) and seat. */
export async function classOrders(
  knex: Knex,
  user: CurrentUser,
  classId: number,
): Promise<{ cls: ClassInfo; orders: ClassOrder[] }> {
  const cls = await classInScope(knex, user, classId);
  const q = knex('subscriptions as s');
  ofClass(q, knex, user, cls, 's.id');
  const rows = await q
    .whereIn('s.status', [...APPROVED_STATUSES])
    .select(['s.id as subscription_id', ...MONEY_COLUMNS, 's.applied_on', 's.effective_on', ...CLASS_ROW_COLUMNS]);
  const charges = await chargesOf(knex, rows);
  const orders = rows.map((r): ClassOrder => {
    const fee = feeOf(r);
    const charge = charges.get(r)!;
    const payment = paymentOf(r);
    return {
      subscription_id: r.subscription_id,
      status: r.status,
      ...studentOf(r),
      starts_on: r.starts_on,
      ends_on: r.ends_on,
      applied_on: r.applied_on,
      effective_on: r.effective_on,
      items: itemsLabel(r),
      fee,
      charge,
      formula: dayAmountFormula(fee, charge),
      ...(payment ? { payment } : {}),
      paymentStatus: paymentStatusLabel(payment),
    };
  });
  return { cls, orders };
}

export interface Receipt extends StudentOfRow {
  payment: PaymentInfo;
  school_name: string;
  class_name: string;
  starts_on: string;
  ends_on: string;
  items: string;
  fee: number;
  /** The school days the amount counts, when the order's charge was stored at its approval. */
  days: { days: number; periodDays: number } | undefined;
}

/** One payment's 收據, for whoever may see the student (the office, the class teacher, the parent); else 404. */
export async function receiptOf(knex: Knex, user: CurrentUser, paymentId: number): Promise<Receipt> {
  const r = await knex('payments as pm')
    .join('subscriptions as s', 's.id', 'pm.subscription_id')
    .join('students as st', 'st.id', 's.student_id')
    .join('classes as c', 'c.id', 'st.class_id')
    .join('schools as sc', 'sc.id', 'st.school_id')
    .join('service_periods as p', 'p.id', 's.period_id')
    .where('pm.id', paymentId)
    .whereIn('s.student_id', visibleStudentIds(knex, user))
    .first([
      ...PAYMENT_COLUMNS,
      ...MONEY_COLUMNS,
      'sc.name as school_name',
      'c.name as class_name',
      ...STUDENT_COLUMNS,
    ]);
  const payment = r ? paymentOf(r) : undefined;
  if (!r || !payment) throw new NotFoundError();
  return {
    payment,
    school_name: r.school_name,
    class_name: r.class_name,
    ...studentOf(r),
    starts_on: r.starts_on,
    ends_on: r.ends_on,
    items: itemsLabel(r),
    fee: feeOf(r),
    days: r.charge_days !== null ? { days: r.charge_days, periodDays: r.charge_period_days } : undefined,
  };
}

export interface ClassRefund extends StudentOfRow {
  request_id: number;
  items: string;
  effective_on: string;
  fee: number;
  refund: DayAmount | undefined;
  refund_amount: number;
  formula: string | undefined;
  payment?: PaymentInfo;
  refund_paid_on: string | null;
}

/** 退費清單: a class's approved cancellations with their refund, its days, and whether the order was paid. */
export async function classRefunds(
  knex: Knex,
  user: CurrentUser,
  classId: number,
): Promise<{ cls: ClassInfo; refunds: ClassRefund[] }> {
  const cls = await classInScope(knex, user, classId);
  const q = knex('review_requests as r').join('subscriptions as s', 's.id', 'r.subscription_id');
  ofClass(q, knex, user, cls, 'r.id');
  const rows = await q
    .where({ 'r.kind': 'cancellation', 'r.status': 'approved' })
    .select([
      'r.id as request_id',
      'r.effective_on',
      'r.refund_amount',
      'r.refund_days',
      'r.refund_period_days',
      'r.refund_paid_on',
      's.arrival',
      's.departure',
      'p.arrival_fee',
      'p.departure_fee',
      ...CLASS_ROW_COLUMNS,
    ]);
  const refunds = rows.map((r): ClassRefund => {
    const fee = feeOf(r);
    const refund: DayAmount | undefined =
      r.refund_days !== null
        ? { amount: r.refund_amount ?? 0, days: r.refund_days, periodDays: r.refund_period_days }
        : undefined;
    const payment = paymentOf(r);
    return {
      request_id: r.request_id,
      ...studentOf(r),
      items: itemsLabel(r),
      effective_on: r.effective_on,
      fee,
      refund,
      refund_amount: r.refund_amount ?? 0,
      formula: refund ? dayAmountFormula(fee, refund) : undefined,
      ...(payment ? { payment } : {}),
      refund_paid_on: r.refund_paid_on,
    };
  });
  return { cls, refunds };
}

/** A list's rows with their money (應繳 with its school days, 繳費狀態), read for the page's subscriptions. */
export async function withMoney<R extends { id: number }, P extends { rows: R[] }>(
  knex: Knex,
  page: P,
): Promise<P & { rows: (R & { money?: OrderMoney })[] }> {
  const money = await moneyOfSubscriptions(
    knex,
    page.rows.map((r) => r.id),
  );
  return { ...page, rows: page.rows.map((r) => ({ ...r, money: money.get(r.id) })) };
}
