/**
 * 繳費: the school office records that approved orders were paid — one, or several of a class at once — on a date,
 * each with the next 收據號碼 of the school. The number comes from the school's counter row, incremented inside
 * the payment's transaction: concurrent payments queue on that row, and a payment that rolls back gives its number
 * back, so a school's receipt numbers run 1, 2, 3, … without a gap or a duplicate. Nobody types a receipt number.
 */
import type { Knex } from 'knex';
import type { Clock } from '../../clock.js';
import { NotFoundError } from '../errors.js';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { visibleStudentIds } from '../scope.js';
import { loadHolidays } from '../schools/school-calendar.js';
import {
  chargedOf,
  isApprovedStatus,
  type DayAmount,
  type FeeInput,
  type PeriodDates,
  type StoredCharge,
} from '../subscriptions/lifecycle.js';
import { MONEY_COLUMNS } from '../subscriptions/lifecycle-sql.js';
import { ServiceInputError, TransitionError } from '../subscriptions/subscription-service.js';

/** 收據號碼 as printed: the school's sequence number, six digits (000001). */
export function receiptLabel(n: number): string {
  return String(n).padStart(6, '0');
}

/** 繳費狀態 as the lists show it. */
export function paymentStatusLabel(p: { paid_on: string | null; receipt_number: number | null } | undefined): string {
  if (!p?.paid_on || p.receipt_number === null) return '未繳費';
  return `已繳費 ${p.paid_on} 收據號碼 ${receiptLabel(p.receipt_number)}`;
}

export interface RecordedPayment {
  paymentId: number;
  subscriptionId: number;
  receiptNumber: number;
  amount: number;
}

type Row = FeeInput &
  PeriodDates &
  StoredCharge & {
    id: number;
    status: string;
    applied_on: string;
    school_id: number;
    student_name: string;
    seat_number: number;
    class_code: string;
  };

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

/**
 * Record the payment of approved orders of the user's school (school admin only; anything else is 404), all or
 * nothing, numbered in class and seat order. Refused with a message and nothing written: an order not approved,
 * one already paid, a date after today or before the order was applied for.
 */
export async function recordPayments(
  knex: Knex,
  clock: Clock,
  user: CurrentUser,
  o: { subscriptionIds: readonly number[]; paidOn: string },
  actor: Actor,
): Promise<RecordedPayment[]> {
  if (user.role !== 'school_admin') throw new NotFoundError();
  const ids = [...new Set(o.subscriptionIds)].sort((a, b) => a - b);
  if (ids.length === 0) throw new ServiceInputError('subscriptionIds', '請勾選要登錄繳費的訂購。');
  if (o.paidOn > clock.today()) throw new ServiceInputError('paidOn', '繳費日期不可晚於今天。');
  try {
    return await knex.transaction(async (trx) => {
      // Lock the orders (in id order) so two offices paying the same order queue, and the second sees the first.
      const rows = (await trx('subscriptions as s')
        .join('students as st', 'st.id', 's.student_id')
        .join('classes as c', 'c.id', 'st.class_id')
        .join('service_periods as p', 'p.id', 's.period_id')
        .whereIn('s.id', ids)
        .where('s.school_id', user.schoolId)
        .whereIn('s.student_id', visibleStudentIds(trx, user))
        .orderBy('s.id')
        .forUpdate('s')
        .select(
          's.id',
          ...MONEY_COLUMNS,
          's.applied_on',
          'st.name as student_name',
          'st.seat_number',
          'c.code as class_code',
        )) as Row[];
      if (rows.length !== ids.length) throw new NotFoundError();
      // Only an approved order (lifecycle.APPROVED_STATUSES) is charged: the office may record its payment.
      const notApproved = rows.find((r) => !isApprovedStatus(r.status));
      if (notApproved)
        throw new TransitionError(
          `${notApproved.student_name} 的訂購尚未核准，只有已核准的訂購可以登錄繳費。`,
          'not_approved',
        );
      const paid = await trx('payments as pm')
        .join('subscriptions as s', 's.id', 'pm.subscription_id')
        .join('students as st', 'st.id', 's.student_id')
        .whereIn('pm.subscription_id', ids)
        .orderBy('pm.receipt_number')
        .first('st.name', 'pm.paid_on', 'pm.receipt_number');
      if (paid)
        throw new TransitionError(
          `${paid.name as string} 的訂購已於 ${paid.paid_on as string} 繳費（收據號碼 ${receiptLabel(paid.receipt_number as number)}），不可重複繳費。`,
          'already_paid',
        );
      const early = rows.find((r) => o.paidOn < r.applied_on);
      if (early)
        throw new ServiceInputError(
          'paidOn',
          `繳費日期不可早於申請日期（${early.student_name}：${early.applied_on}）。`,
        );

      const holidays = new Map<string, Set<string>>();
      const recorded: RecordedPayment[] = [];
      rows.sort((a, b) => a.class_code.localeCompare(b.class_code) || a.seat_number - b.seat_number || a.id - b.id);
      for (const r of rows) {
        let charged: DayAmount;
        if (r.charge_amount !== null) charged = chargedOf(r, new Set());
        else {
          const key = `${r.starts_on}/${r.ends_on}`;
          if (!holidays.has(key)) holidays.set(key, await loadHolidays(trx, r.school_id, r.starts_on, r.ends_on));
          charged = chargedOf(r, holidays.get(key)!);
        }
        const receiptNumber = await nextReceiptNumber(trx, user.schoolId);
        const [p] = await trx('payments')
          .insert({
            school_id: user.schoolId,
            subscription_id: r.id,
            receipt_number: receiptNumber,
            paid_on: o.paidOn,
            amount: charged.amount,
            recorded_by_account_id: user.accountId,
            created_at: clock.now(),
          })
          .returning('id');
        await audit(trx, actor, {
          action: 'payment.recorded',
          actorAccountId: user.accountId,
          schoolId: user.schoolId,
          targetType: 'payment',
          targetId: p.id as number,
          details: {
            subscriptionId: r.id,
            receiptNumber,
            paidOn: o.paidOn,
            amount: charged.amount,
            days: charged.days,
            periodDays: charged.periodDays,
          },
        });
        recorded.push({ paymentId: p.id as number, subscriptionId: r.id, receiptNumber, amount: charged.amount });
      }
      return recorded;
    });
  } catch (err) {
    // Belt and braces: the unique (subscription) and (school, receipt number) indexes refuse what slipped through.
    if (isUniqueViolation(err)) throw new TransitionError('此訂購已登錄繳費，不可重複繳費。', 'already_paid');
    throw err;
  }
}

/** The school's next 收據號碼: its counter row, created at 1 or incremented, locked until the transaction ends. */
export async function nextReceiptNumber(trx: Knex.Transaction, schoolId: number): Promise<number> {
  const { rows } = await trx.raw<{ rows: { last_number: number }[] }>(
    `insert into receipt_counters (school_id, last_number) values (?, 1)
     on conflict (school_id) do update set last_number = receipt_counters.last_number + 1
     returning last_number`,
    [schoolId],
  );
  return rows[0]!.last_number;
}
