import { describe, expect, it } from 'vitest';
import {
  ALLOWED_ROLES,
  EVENTS,
  ROLES,
  STATUSES,
  approvalEffectiveDate,
  canCancel,
  cancellationLabel,
  transitionLabel,
  STATE_LABELS,
  decide,
  displayState,
  reportState,
  effectiveDateFor,
  feeOf,
  isEffectiveOn,
  orderCharge,
  refundAmount,
  spanAmount,
  dayAmountFormula,
  type LifecycleEvent,
  type SubscriptionStatus,
} from '../../src/domain/subscriptions/lifecycle.js';

/** The whole legal graph: (from, event) → to. Everything else is refused. */
const LEGAL: Record<string, SubscriptionStatus> = {
  'none/order': 'pending',
  'pending/approve': 'active',
  'pending/reject': 'rejected',
  'pending/withdraw': 'withdrawn',
  'active/cancel': 'cancel_pending',
  'cancel_pending/approve': 'cancelled',
  'cancel_pending/reject': 'active',
  'cancel_pending/withdraw': 'active',
};

const FROM: (SubscriptionStatus | null)[] = [null, ...STATUSES];

describe('lifecycle: every state × every event × every role', () => {
  const rows: [SubscriptionStatus | null, LifecycleEvent, (typeof ROLES)[number], boolean][] = [];
  for (const from of FROM)
    for (const event of EVENTS)
      for (const role of ROLES) for (const related of [true, false]) rows.push([from, event, role, related]);

  it.each(rows)('%s + %s by %s (related %s)', (from, event, role, related) => {
    const d = decide(from, event, { role, related }, { reason: '資料有誤' });
    const key = `${from ?? 'none'}/${event}`;
    if (!related) {
      expect(d).toMatchObject({ ok: false, refusal: 'not_found' });
    } else if (!ALLOWED_ROLES[event].includes(role)) {
      expect(d).toMatchObject({ ok: false, refusal: 'not_allowed' });
    } else if (LEGAL[key]) {
      expect(d).toMatchObject({ ok: true, from, to: LEGAL[key] });
    } else {
      expect(d).toMatchObject({ ok: false, refusal: 'invalid' });
    }
  });

  it('parents order, cancel and withdraw; teachers and admins approve and reject', () => {
    expect(ALLOWED_ROLES).toEqual({
      order: ['parent'],
      cancel: ['parent'],
      withdraw: ['parent'],
      approve: ['teacher', 'school_admin'],
      reject: ['teacher', 'school_admin'],
    });
  });

  it('names the request each transition concerns', () => {
    const staff = { role: 'teacher' as const, related: true };
    expect(decide('pending', 'approve', staff)).toMatchObject({ requestKind: 'order', requestStatus: 'approved' });
    expect(decide('cancel_pending', 'approve', staff)).toMatchObject({
      requestKind: 'cancellation',
      requestStatus: 'approved',
    });
    expect(decide('cancel_pending', 'reject', staff, { reason: 'x' })).toMatchObject({
      requestKind: 'cancellation',
      requestStatus: 'rejected',
    });
    expect(decide('active', 'cancel', { role: 'parent', related: true })).toMatchObject({
      requestKind: 'cancellation',
      requestStatus: 'pending',
    });
    expect(decide(null, 'order', { role: 'parent', related: true })).toMatchObject({
      requestKind: 'order',
      requestStatus: 'pending',
    });
  });

  it('reject needs a reason', () => {
    for (const reason of [undefined, '', '   '])
      expect(decide('pending', 'reject', { role: 'teacher', related: true }, { reason })).toMatchObject({
        ok: false,
        refusal: 'reason_required',
      });
  });

  it('an ended period can be neither ordered, cancelled nor approved as an order; a cancellation can still be decided', () => {
    const parent = { role: 'parent' as const, related: true };
    const teacher = { role: 'teacher' as const, related: true };
    expect(decide('active', 'cancel', parent, { expired: true })).toMatchObject({ refusal: 'expired' });
    expect(decide(null, 'order', parent, { expired: true })).toMatchObject({ refusal: 'expired' });
    expect(decide('pending', 'approve', teacher, { expired: true })).toMatchObject({ refusal: 'expired' });
    expect(decide('cancel_pending', 'approve', teacher, { expired: true })).toMatchObject({
      ok: true,
      to: 'cancelled',
    });
    expect(decide('cancel_pending', 'withdraw', parent, { expired: true })).toMatchObject({ ok: true, to: 'active' });
  });
});

describe('effective dates and display states', () => {
  const period = { starts_on: '2026-08-31', ends_on: '2027-01-20' };

  it('approved on D takes effect on D+1, across months and years', () => {
    expect(effectiveDateFor('2026-11-28')).toBe('2026-11-29');
    expect(effectiveDateFor('2026-11-30')).toBe('2026-12-01');
    expect(effectiveDateFor('2026-12-31')).toBe('2027-01-01');
  });

  it('an order approved today shows 已核准 with tomorrow and starts sending tomorrow', () => {
    const sub = { status: 'active' as const, effective_on: '2026-11-29', cancelled_on: null };
    expect(displayState(sub, period, '2026-11-28')).toEqual({ key: 'approved', label: '已核准，2026-11-29 生效' });
    expect(isEffectiveOn(sub, period, '2026-11-28')).toBe(false);
    expect(displayState(sub, period, '2026-11-29')).toEqual({ key: 'active', label: '生效' });
    expect(isEffectiveOn(sub, period, '2026-11-29')).toBe(true);
  });

  it("an order for the next period, approved today, shows the period's first day", () => {
    const next = { starts_on: '2027-02-11', ends_on: '2027-06-30' };
    const sub = { status: 'active' as const, effective_on: '2026-11-29', cancelled_on: null };
    expect(displayState(sub, next, '2026-11-28').label).toBe('已核准，2027-02-11 生效');
    expect(displayState(sub, next, '2027-02-10').label).toBe('已核准，2027-02-11 生效');
    expect(isEffectiveOn(sub, next, '2027-02-10')).toBe(false);
    expect(displayState(sub, next, '2027-02-11').label).toBe('生效');
    expect(isEffectiveOn(sub, next, '2027-02-11')).toBe(true);
  });

  it('a cancellation approved today still sends today, shows 註銷已核准, and is 已註銷 from tomorrow', () => {
    const sub = { status: 'cancelled' as const, effective_on: '2026-09-02', cancelled_on: '2026-11-29' };
    expect(displayState(sub, period, '2026-11-28').label).toBe('註銷已核准，2026-11-29 起停止');
    expect(isEffectiveOn(sub, period, '2026-11-28')).toBe(true);
    expect(displayState(sub, period, '2026-11-29').label).toBe('已註銷');
    expect(isEffectiveOn(sub, period, '2026-11-29')).toBe(false);
  });

  it('reports count a cancellation approved today as 生效 until it takes effect, and one effective after the period ran out as 已到期', () => {
    const sub = { status: 'cancelled' as const, effective_on: '2026-09-02', cancelled_on: '2026-11-29' };
    expect(reportState(sub, period, '2026-11-28')).toBe('active');
    expect(reportState(sub, period, '2026-11-29')).toBe('cancelled');
    const lastDay = { ...sub, cancelled_on: addDaysForTest(period.ends_on, 1) };
    expect(reportState(lastDay, period, period.ends_on)).toBe('active');
    expect(reportState(lastDay, period, addDaysForTest(period.ends_on, 1))).toBe('expired');
    expect(displayState(lastDay, period, addDaysForTest(period.ends_on, 1)).label).toBe('已到期');
    expect(reportState({ status: 'pending', effective_on: null, cancelled_on: null }, period, '2026-11-28')).toBe(
      'pending',
    );
    expect(
      reportState({ status: 'active', effective_on: '2026-11-29', cancelled_on: null }, period, '2026-11-28'),
    ).toBe('active');
  });

  it('labels the other states; an ended period shows 已到期 and cannot be cancelled', () => {
    const active = { status: 'active' as const, effective_on: '2026-09-02', cancelled_on: null };
    expect(displayState({ ...active, status: 'pending', effective_on: null }, period, '2026-11-28').label).toBe(
      '審核中',
    );
    expect(displayState({ ...active, status: 'cancel_pending' }, period, '2026-11-28').label).toBe('註銷審核中');
    expect(displayState({ ...active, status: 'rejected', effective_on: null }, period, '2026-11-28').label).toBe(
      '已退回',
    );
    expect(displayState({ ...active, status: 'withdrawn', effective_on: null }, period, '2026-11-28').label).toBe(
      '已取消',
    );
    expect(canCancel(active, period, '2027-01-20')).toBe(true);
    expect(displayState(active, period, '2027-01-21').label).toBe('已到期');
    expect(canCancel(active, period, '2027-01-21')).toBe(false);
    expect(isEffectiveOn(active, period, '2027-01-21')).toBe(false);
  });

  it('labels cancellation requests', () => {
    expect(cancellationLabel({ status: 'pending', effective_on: null, decision_reason: null })).toBe('審核中');
    expect(cancellationLabel({ status: 'approved', effective_on: '2026-11-29', decision_reason: null })).toBe(
      '已核准，2026-11-29 生效',
    );
    expect(cancellationLabel({ status: 'rejected', effective_on: null, decision_reason: '請洽導師' })).toBe(
      '已退回（請洽導師）',
    );
    expect(cancellationLabel({ status: 'withdrawn', effective_on: null, decision_reason: null })).toBe('已取消');
  });
});

describe('申請狀態: one label for every status × date (到離校簡訊訂購服務)', () => {
  const P = { starts_on: '2026-08-31', ends_on: '2027-01-20' };
  const NEXT = { starts_on: '2027-02-11', ends_on: '2027-06-30' };
  const sub = (
    status: SubscriptionStatus,
    effective_on: string | null,
    cancelled_on: string | null = null,
    rejection_reason: string | null = null,
  ) => ({
    status,
    effective_on,
    cancelled_on,
    rejection_reason,
  });
  // [what, subscription, period, today, key, label]
  const table: [string, ReturnType<typeof sub>, typeof P, string, string, string][] = [
    ['order waiting', sub('pending', null), P, '2026-11-24', 'pending', '審核中'],
    ['order waiting, period over', sub('pending', null), P, '2027-01-21', 'expired', '已到期'],
    ['order approved on D, on D', sub('active', '2026-11-25'), P, '2026-11-24', 'approved', '已核准，2026-11-25 生效'],
    ['order approved on D, on D+1', sub('active', '2026-11-25'), P, '2026-11-25', 'active', '生效'],
    ['order in effect, last day', sub('active', '2026-09-02'), P, '2027-01-20', 'active', '生效'],
    ['order in effect, after the end', sub('active', '2026-09-02'), P, '2027-01-21', 'expired', '已到期'],
    [
      'order for the next period, approved on D',
      sub('active', '2027-02-11'),
      NEXT,
      '2026-11-24',
      'approved',
      '已核准，2027-02-11 生效',
    ],
    [
      'order for the next period, the day before it',
      sub('active', '2027-02-11'),
      NEXT,
      '2027-02-10',
      'approved',
      '已核准，2027-02-11 生效',
    ],
    ['order for the next period, its first day', sub('active', '2027-02-11'), NEXT, '2027-02-11', 'active', '生效'],
    [
      'order for the next period stored as D+1 (before the fix)',
      sub('active', '2026-11-25'),
      NEXT,
      '2026-11-25',
      'approved',
      '已核准，2027-02-11 生效',
    ],
    ['cancellation waiting', sub('cancel_pending', '2026-09-02'), P, '2026-11-24', 'cancel_pending', '註銷審核中'],
    ['cancellation waiting, period over', sub('cancel_pending', '2026-09-02'), P, '2027-01-21', 'expired', '已到期'],
    [
      'cancellation approved on D, on D',
      sub('cancelled', '2026-09-02', '2026-11-25'),
      P,
      '2026-11-24',
      'cancel_approved',
      '註銷已核准，2026-11-25 起停止',
    ],
    [
      'cancellation approved on D, on D+1',
      sub('cancelled', '2026-09-02', '2026-11-25'),
      P,
      '2026-11-25',
      'cancelled',
      '已註銷',
    ],
    [
      'cancellation in effect, after the end',
      sub('cancelled', '2026-09-02', '2026-11-25'),
      P,
      '2027-01-21',
      'cancelled',
      '已註銷',
    ],
    [
      'cancellation approved on the last day, on it',
      sub('cancelled', '2026-09-02', '2027-01-21'),
      P,
      '2027-01-20',
      'cancel_approved',
      '註銷已核准，2027-01-21 起停止',
    ],
    [
      'cancellation approved on the last day, after the end',
      sub('cancelled', '2026-09-02', '2027-01-21'),
      P,
      '2027-01-21',
      'expired',
      '已到期',
    ],
    [
      'order rejected with a reason',
      sub('rejected', null, null, '請先登記手機'),
      P,
      '2026-11-24',
      'rejected',
      '已退回（請先登記手機）',
    ],
    ['order rejected, no reason read', sub('rejected', null), P, '2026-11-24', 'rejected', '已退回'],
    [
      'order rejected, period over',
      sub('rejected', null, null, '資料有誤'),
      P,
      '2027-01-21',
      'rejected',
      '已退回（資料有誤）',
    ],
    ['order withdrawn', sub('withdrawn', null), P, '2026-11-24', 'withdrawn', '已取消'],
  ];

  it.each(table)('%s', (_what, s, period, today, key, label) => {
    expect(displayState(s, period, today)).toEqual({ key, label });
  });

  it('an approved order and an approved cancellation never read the same', () => {
    const order = displayState(sub('active', '2026-11-25'), P, '2026-11-24').label;
    const cancellation = displayState(sub('cancelled', '2026-09-02', '2026-11-25'), P, '2026-11-24').label;
    expect(order).not.toBe(cancellation);
    expect(cancellation.startsWith('註銷')).toBe(true);
  });

  it('every state has its words once', () => {
    expect(STATE_LABELS).toEqual({
      pending: '審核中',
      approved: '已核准',
      active: '生效',
      cancel_pending: '註銷審核中',
      cancel_approved: '註銷已核准',
      cancelled: '已註銷',
      rejected: '已退回',
      withdrawn: '已取消',
      expired: '已到期',
    });
  });

  it('an approval takes effect the next day; an order for a period still to come on its first day', () => {
    expect(approvalEffectiveDate('order', '2026-11-24', P)).toBe('2026-11-25');
    expect(approvalEffectiveDate('order', '2026-11-24', NEXT)).toBe('2027-02-11');
    expect(approvalEffectiveDate('order', '2027-02-10', NEXT)).toBe('2027-02-11');
    expect(approvalEffectiveDate('order', '2027-02-11', NEXT)).toBe('2027-02-12');
    expect(approvalEffectiveDate('cancellation', '2026-11-24', NEXT)).toBe('2026-11-25');
    expect(approvalEffectiveDate('cancellation', '2026-11-24', P)).toBe('2026-11-25');
  });

  it('申請紀錄 words an approval as approved with its date, other transitions by their state', () => {
    expect(
      transitionLabel({ event: 'approve', to_status: 'active', request_kind: 'order', effective_on: '2027-02-11' }),
    ).toBe('已核准，2027-02-11 生效');
    expect(
      transitionLabel({
        event: 'approve',
        to_status: 'cancelled',
        request_kind: 'cancellation',
        effective_on: '2026-11-25',
      }),
    ).toBe('註銷已核准，2026-11-25 起停止');
    expect(transitionLabel({ event: 'reject', to_status: 'rejected', request_kind: 'order', effective_on: null })).toBe(
      '已退回',
    );
    expect(transitionLabel({ event: 'order', to_status: 'pending', request_kind: 'order', effective_on: null })).toBe(
      '審核中',
    );
    expect(
      transitionLabel({ event: 'withdraw', to_status: 'active', request_kind: 'cancellation', effective_on: null }),
    ).toBe('生效');
  });
});

describe('fees and refunds count school days (docs/product.md)', () => {
  // 2026-08-31 (Mon) … 2027-01-20 (Wed): 20 whole weeks (100 weekdays) + Mon–Wed of the last week = P 103 school
  // days when the school has no holiday in it.
  const period = { starts_on: '2026-08-31', ends_on: '2027-01-20' };
  const none = new Set<string>();
  const fee = feeOf({ arrival: true, departure: true, arrival_fee: 150, departure_fee: 150 });
  const whole = { amount: 300, days: 103, periodDays: 103 };

  it('spanAmount is floor(fee × S ÷ P), and 0 for a period without school days', () => {
    expect(spanAmount(300, 48, 92)).toBe(156); // 300 × 48 = 14,400; ÷ 92 = 156.52 → 156
    expect(spanAmount(300, 92, 92)).toBe(300);
    expect(spanAmount(300, 0, 92)).toBe(0);
    expect(spanAmount(300, 0, 0)).toBe(0);
    expect(dayAmountFormula(300, { amount: 156, days: 48, periodDays: 92 })).toBe('NT$300 × 48 ÷ 92 個上學日 = NT$156');
  });

  it.each([
    // effective, S, amount (S = the school days from the effective date to 2027-01-20, both included)
    ['before the period starts: the whole fee', '2026-08-01', 103, 300],
    ['on its first day: the whole fee', '2026-08-31', 103, 300],
    ['on its second day (Tue 09-01): S 102', '2026-09-01', 102, Math.floor((300 * 102) / 103)], // 297
    [
      'on a Saturday (2026-11-28): counted from Mon 11-30, 7 whole weeks + Mon–Wed = S 38',
      '2026-11-28',
      38,
      Math.floor((300 * 38) / 103),
    ], // 110
    ['on its last day (Wed 2027-01-20): S 1', '2027-01-20', 1, Math.floor(300 / 103)], // 2
    ['after it ends: nothing', '2027-01-21', 0, 0],
  ])('an order or a cancellation effective %s', (_label, effectiveOn, days, amount) => {
    const charge = orderCharge(fee, period, effectiveOn, none);
    expect(charge).toEqual({ amount, days, periodDays: 103 });
    expect(refundAmount(fee, whole, period, effectiveOn, none)).toEqual({ amount, days, periodDays: 103 });
  });

  it('a holiday range leaves both counts: taking effect on the first day of the break or after it costs and refunds the same', () => {
    // 寒假-like: 2027-01-11 (Mon) … 2027-01-15 (Fri), 5 weekdays: P = 103 − 5 = 98.
    const holidays = new Set([
      '2027-01-11',
      '2027-01-12',
      '2027-01-13',
      '2027-01-14',
      '2027-01-15',
      '2027-01-16',
      '2027-01-17',
    ]);
    // From Mon 01-11 (the break) or from Mon 01-18 (after it): 01-18, 01-19, 01-20 = S 3 → floor(300 × 3 ÷ 98) = 9.
    const atBreak = refundAmount(fee, { amount: 300, days: 98, periodDays: 98 }, period, '2027-01-11', holidays);
    const after = refundAmount(fee, { amount: 300, days: 98, periodDays: 98 }, period, '2027-01-18', holidays);
    expect(atBreak).toEqual({ amount: 9, days: 3, periodDays: 98 });
    expect(after).toEqual(atBreak);
    expect(orderCharge(fee, period, '2027-01-11', holidays)).toEqual({ amount: 9, days: 3, periodDays: 98 });
  });

  it('a refund never exceeds what the order was charged, and before the start it is everything charged', () => {
    const charged = { amount: 110, days: 38, periodDays: 103 };
    expect(refundAmount(fee, charged, period, '2026-08-20', none)).toEqual(charged);
    // from Tue 2026-12-01: Tue–Fri 4 + 6 whole weeks 30 + Mon–Wed 3 = S 37 → floor(300 × 37 ÷ 103) = 107 ≤ 110
    expect(refundAmount(fee, charged, period, '2026-12-01', none)).toEqual({ amount: 107, days: 37, periodDays: 103 });
  });

  it('counts only the subscribed items', () => {
    expect(feeOf({ arrival: true, departure: false, arrival_fee: 150, departure_fee: 120 })).toBe(150);
    expect(feeOf({ arrival: false, departure: true, arrival_fee: 150, departure_fee: 120 })).toBe(120);
    expect(orderCharge(150, period, '2026-11-28', none).amount).toBe(Math.floor((150 * 38) / 103)); // 55
  });
});

function addDaysForTest(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
