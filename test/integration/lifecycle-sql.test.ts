/**
 * The lifecycle's date rules in SQL (lifecycle-sql.ts) agree with their TypeScript twins (lifecycle.ts): for
 * subscriptions in every status with the dates the service leaves, on every date around each boundary (before
 * the period, its first day, the effective date, the day before/of/after a cancellation's effective date, the
 * period's last day, after), "in effect on D" is isEffectiveOn and "shown as X on D" holds for exactly the X of
 * displayState — with D a column of the statement (as the SMS are decided) and with D bound (as the lists filter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import {
  displayState,
  isEffectiveOn,
  STATE_LABELS,
  type DisplayKey,
  type SubscriptionDates,
} from '../../src/domain/subscriptions/lifecycle.js';
import { inEffectOn, shownAs, type SqlDate } from '../../src/domain/subscriptions/lifecycle-sql.js';
import { addDays } from '../../src/domain/time.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createClass, createPeriod, createSchool, createStudent, createSubscription } from '../support/factories.js';

const knex = testDb().knex;
const PERIOD = { starts_on: '2026-09-01', ends_on: '2026-09-30' };
const KEYS = Object.keys(STATE_LABELS) as DisplayKey[];

/** Every status, with the dates the service can leave on it (an approval's effective date is the next day or the period's first). */
const CASES: (Omit<SubscriptionDates, 'status'> & { status: SubscriptionDates['status']; why: string })[] = [
  { status: 'pending', effective_on: null, cancelled_on: null, why: 'an order waiting' },
  { status: 'rejected', effective_on: null, cancelled_on: null, why: 'an order rejected' },
  { status: 'withdrawn', effective_on: null, cancelled_on: null, why: 'an order withdrawn' },
  { status: 'active', effective_on: null, cancelled_on: null, why: 'approved before effective dates were stored' },
  { status: 'active', effective_on: '2026-08-20', cancelled_on: null, why: 'effective before the period' },
  { status: 'active', effective_on: '2026-09-01', cancelled_on: null, why: 'effective on the first day' },
  { status: 'active', effective_on: '2026-09-10', cancelled_on: null, why: 'effective within the period' },
  { status: 'active', effective_on: '2026-09-30', cancelled_on: null, why: 'effective on the last day' },
  { status: 'active', effective_on: '2026-10-01', cancelled_on: null, why: 'approved on the last day' },
  { status: 'cancel_pending', effective_on: '2026-08-20', cancelled_on: null, why: 'cancellation asked' },
  { status: 'cancel_pending', effective_on: '2026-09-10', cancelled_on: null, why: 'cancellation asked' },
  { status: 'cancelled', effective_on: '2026-09-01', cancelled_on: '2026-08-22', why: 'cancelled before it began' },
  { status: 'cancelled', effective_on: '2026-08-20', cancelled_on: '2026-09-01', why: 'stops on the first day' },
  { status: 'cancelled', effective_on: '2026-09-01', cancelled_on: '2026-09-02', why: 'stops on the second day' },
  { status: 'cancelled', effective_on: '2026-09-10', cancelled_on: '2026-09-10', why: 'stops the day it began' },
  { status: 'cancelled', effective_on: '2026-09-10', cancelled_on: '2026-09-15', why: 'stops within the period' },
  { status: 'cancelled', effective_on: '2026-09-01', cancelled_on: '2026-09-30', why: 'stops on the last day' },
  { status: 'cancelled', effective_on: '2026-09-01', cancelled_on: '2026-10-01', why: 'ran to the period end' },
  { status: 'cancelled', effective_on: '2026-09-01', cancelled_on: '2026-10-05', why: 'stops after the period' },
];

/** Each boundary of the period and of every case, the day before and the day after; and far before and after. */
const DATES = [
  ...new Set(
    [PERIOD.starts_on, PERIOD.ends_on, ...CASES.flatMap((c) => [c.effective_on, c.cancelled_on])]
      .filter((d): d is string => d !== null)
      .flatMap((d) => [addDays(d, -1), d, addDays(d, 1)])
      .concat(['2026-01-15', '2027-03-01']),
  ),
].sort();

const ALIASES = { sub: 's', period: 'p' };
const ids = new Map<number, (typeof CASES)[number]>();

beforeAll(async () => {
  await resetDb();
  const school = await createSchool(knex);
  const cls = await createClass(knex, school);
  const period = await createPeriod(knex, school, { startsOn: PERIOD.starts_on, endsOn: PERIOD.ends_on });
  for (const c of CASES) {
    const student = await createStudent(knex, cls);
    const id = await createSubscription(knex, student, period, {
      status: c.status,
      effectiveOn: c.effective_on,
      cancelledOn: c.cancelled_on,
    });
    ids.set(id, c);
  }
});
afterAll(() => closeTestDb());

/** The predicates as columns of one row per subscription (and per date of `from`). */
function predicates(date: SqlDate): Knex.Raw[] {
  return [
    knex.raw('coalesce(?, false) as in_effect', [inEffectOn(knex, ALIASES, date)]),
    ...KEYS.map((k) => knex.raw(`coalesce(?, false) as "shown_${k}"`, [shownAs(knex, k, ALIASES, date)])),
  ];
}

type Row = { id: number; day: string; in_effect: boolean } & Record<string, unknown>;

/** What the TypeScript says against what the SQL said, one line per disagreement. */
function disagreements(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const c = ids.get(r.id)!;
    const what = `${c.status} (${c.why}: effective ${c.effective_on}, cancelled ${c.cancelled_on}) on ${r.day}`;
    if (r.in_effect !== isEffectiveOn(c, PERIOD, r.day))
      out.push(`${what}: in effect ${r.in_effect}, isEffectiveOn ${!r.in_effect}`);
    const shown = KEYS.filter((k) => r[`shown_${k}`] === true);
    const key = displayState(c, PERIOD, r.day).key;
    if (shown.length !== 1 || shown[0] !== key)
      out.push(`${what}: shown as [${shown.join(', ')}], displayState ${key}`);
  }
  return out;
}

const base = () => knex('subscriptions as s').join('service_periods as p', 'p.id', 's.period_id');

describe('lifecycle-sql agrees with lifecycle.ts', () => {
  it('for every status × date, with the date a column of the statement (as the SMS are decided)', async () => {
    const rows = (await base()
      .joinRaw('cross join unnest(?::date[]) as d(day)', [DATES])
      .select('s.id', knex.raw('d.day::text as day'), ...predicates(knex.raw('d.day')))) as Row[];
    expect(rows.length).toBe(CASES.length * DATES.length);
    expect(disagreements(rows)).toEqual([]);
  });

  it('for every status × date, with the date bound (as the lists filter)', async () => {
    const rows: Row[] = [];
    for (const day of DATES)
      rows.push(...((await base().select('s.id', knex.raw('?::text as day', [day]), ...predicates(day))) as Row[]));
    expect(rows.length).toBe(CASES.length * DATES.length);
    expect(disagreements(rows)).toEqual([]);
  });

  it('covers every displayed state and both answers of "in effect"', () => {
    const keys = new Set(CASES.flatMap((c) => DATES.map((d) => displayState(c, PERIOD, d).key)));
    expect([...keys].sort()).toEqual([...KEYS].sort());
    const effective = new Set(CASES.flatMap((c) => DATES.map((d) => isEffectiveOn(c, PERIOD, d))));
    expect(effective).toEqual(new Set([true, false]));
  });
});
