/**
 * 新增申請's quote: what an order would be charged if it were approved today (effective tomorrow), for each
 * choice of items, counted on the school's calendar by the one rule (lifecycle.orderCharge). The charge itself is
 * fixed when the order is approved (SubscriptionService), from its real effective date.
 */
import type { Knex } from 'knex';
import { loadHolidays } from '../schools/school-calendar.js';
import {
  dayAmountFormula,
  approvalEffectiveDate,
  feeOf,
  orderCharge,
  type DayAmount,
  type PeriodDates,
} from './lifecycle.js';

export interface Quote extends DayAmount {
  fee: number;
  /** `NT$300 × 48 ÷ 92 個上學日 = NT$156` */
  formula: string;
  /** The whole fee: the order takes effect on or before the period's first day. */
  whole: boolean;
}

export interface OrderQuotes {
  effectiveOn: string;
  /** by items: '11' both, '10' 到校SMS only, '01' 離校SMS only */
  byItems: Record<'11' | '10' | '01', Quote>;
}

export async function quoteOrder(
  knex: Knex,
  period: PeriodDates & { school_id: number; arrival_fee: number; departure_fee: number },
  today: string,
): Promise<OrderQuotes> {
  const holidays = await loadHolidays(knex, period.school_id, period.starts_on, period.ends_on);
  const effectiveOn = approvalEffectiveDate('order', today, period);
  const quote = (arrival: boolean, departure: boolean): Quote => {
    const fee = feeOf({ arrival, departure, arrival_fee: period.arrival_fee, departure_fee: period.departure_fee });
    const c = orderCharge(fee, period, effectiveOn, holidays);
    return { ...c, fee, formula: dayAmountFormula(fee, c), whole: effectiveOn <= period.starts_on };
  };
  return { effectiveOn, byItems: { '11': quote(true, true), '10': quote(true, false), '01': quote(false, true) } };
}

export const itemsKey = (s: { arrival: boolean; departure: boolean }): '11' | '10' | '01' =>
  s.arrival && s.departure ? '11' : s.arrival ? '10' : '01';
