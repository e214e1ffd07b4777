/**
 * The lifecycle's date rules in SQL, beside their TypeScript twins in lifecycle.ts: "in effect on D"
 * (isEffectiveOn) and "shown as X on D" (displayState). Every query that asks either question builds its
 * predicate here; test/integration/lifecycle-sql.test.ts checks, for every status × the dates around each
 * boundary, that each predicate answers exactly what its twin answers.
 *
 * A predicate is a parenthesised boolean over a subscription alias and its service period's alias, as plain
 * comparisons on the columns (no function wrapped around an indexed column), so a statement keeps its plan.
 * The date is either a Taipei date 'YYYY-MM-DD' (bound) or an SQL expression such as `knex.raw('k.day')`.
 */
import type { Knex } from 'knex';
import { APPROVED_STATUSES, type DisplayKey } from './lifecycle.js';

/** The table aliases of the subscription and of its service period in the statement. */
export interface LifecycleAliases {
  sub: string;
  period: string;
}

/** A Taipei date bound as a value, or an SQL expression giving one (a column of the statement). */
export type SqlDate = string | Knex.Raw;

const ALIAS = /^[a-z_][a-z0-9_]*$/;
const quoteList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
const APPROVED = quoteList(APPROVED_STATUSES);

function aliases(a: LifecycleAliases): { s: string; p: string } {
  if (!ALIAS.test(a.sub) || !ALIAS.test(a.period)) throw new Error(`bad table alias ${a.sub} / ${a.period}`);
  return { s: a.sub, p: a.period };
}

/** `sql` with each `?` bound to the same date. */
function withDate(knex: Knex, sql: string, date: SqlDate): Knex.Raw {
  const n = sql.split('?').length - 1;
  return knex.raw(
    `(${sql})`,
    Array.from({ length: n }, () => date),
  );
}

/**
 * lifecycle.isEffectiveOn: the subscription sends SMS on D — an approved order (or its cancellation still to
 * take effect) whose effective date has come, not cancelled on D, D inside its service period.
 */
export function inEffectOn(knex: Knex, a: LifecycleAliases, date: SqlDate): Knex.Raw {
  const { s, p } = aliases(a);
  return withDate(
    knex,
    `${s}.status in (${APPROVED}) and ${s}.effective_on is not null and ${s}.effective_on <= ?` +
      ` and (${s}.cancelled_on is null or ${s}.cancelled_on > ?) and ${p}.starts_on <= ? and ${p}.ends_on >= ?`,
    date,
  );
}

/**
 * lifecycle.displayState: the subscription's 申請狀態 on D is `key` (the order list's 狀態 filter). An approved
 * order starts sending on its effective date or the period's first day, whichever is later (`greatest` skips
 * a missing effective date, as displayState does).
 */
export function shownAs(knex: Knex, key: DisplayKey, a: LifecycleAliases, date: SqlDate): Knex.Raw {
  const { s, p } = aliases(a);
  const open = `${p}.ends_on >= ?`;
  const startsSending = `greatest(${s}.effective_on, ${p}.starts_on)`;
  switch (key) {
    case 'pending':
    case 'cancel_pending':
      return withDate(knex, `${s}.status = '${key}' and ${open}`, date);
    case 'active':
      return withDate(knex, `${s}.status = 'active' and ${open} and ${startsSending} <= ?`, date);
    case 'approved':
      return withDate(knex, `${s}.status = 'active' and ${open} and ${startsSending} > ?`, date);
    case 'cancel_approved':
      return withDate(knex, `${s}.status = 'cancelled' and ${open} and ${s}.cancelled_on > ?`, date);
    case 'cancelled':
      // A cancellation that takes effect after the period's last day stopped nothing (lifecycle.ranToPeriodEnd).
      return withDate(
        knex,
        `${s}.status = 'cancelled' and ${s}.cancelled_on <= ? and ${s}.cancelled_on <= ${p}.ends_on`,
        date,
      );
    case 'rejected':
    case 'withdrawn':
      return knex.raw(`(${s}.status = '${key}')`);
    case 'expired':
      return withDate(
        knex,
        `${p}.ends_on < ? and (${s}.status in ('pending', 'active', 'cancel_pending')` +
          ` or (${s}.status = 'cancelled' and ${s}.cancelled_on > ${p}.ends_on))`,
        date,
      );
  }
}

/**
 * The columns a subscription's money is computed from (lifecycle.feeOf, orderCharge, chargedOf, refundAmount):
 * its status, items and stored charge (`s`) and its service period's dates and fees (`p`).
 */
export const MONEY_COLUMNS = [
  's.status',
  's.arrival',
  's.departure',
  's.school_id',
  's.period_id',
  's.charge_amount',
  's.charge_days',
  's.charge_period_days',
  'p.starts_on',
  'p.ends_on',
  'p.arrival_fee',
  'p.departure_fee',
] as const;
