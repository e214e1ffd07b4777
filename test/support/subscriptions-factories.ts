/** Factories for the SMS subscription tests: a school with a period, subscriptions and open requests. */
import type { Knex } from 'knex';
import { loadCurrentUser, type CurrentUser } from '../../src/domain/accounts/current-user.js';
import { createParent, createPeriod, createSchoolWorld, createStudent, createSubscription } from './factories.js';

/**
 * A review request (訂購申請 / 註銷申請) as the service would have left it: a pending one moves the subscription
 * to the matching state (審核中 / 註銷審核中) unless `leaveSubscription`; an approved one takes effect on
 * `effectiveOn` (2026-11-21 unless given); a rejected one carries its reason.
 */
export async function createRequest(
  knex: Knex,
  subscriptionId: number,
  o: {
    kind?: 'order' | 'cancellation';
    status?: string;
    requestedOn?: string;
    byName?: string;
    effectiveOn?: string | null;
    refund?: number | null;
    refundPaidOn?: string | null;
    reason?: string | null;
    leaveSubscription?: boolean;
  } = {},
): Promise<number> {
  const kind = o.kind ?? 'cancellation';
  const status = o.status ?? 'pending';
  if (status === 'pending' && !o.leaveSubscription)
    await knex('subscriptions')
      .where({ id: subscriptionId })
      .update({ status: kind === 'order' ? 'pending' : 'cancel_pending' });
  const [row] = await knex('review_requests')
    .insert({
      subscription_id: subscriptionId,
      kind,
      status,
      requested_by_name: o.byName ?? '王大明',
      requested_on: o.requestedOn ?? '2026-11-20',
      effective_on: o.effectiveOn !== undefined ? o.effectiveOn : status === 'approved' ? '2026-11-21' : null,
      decision_reason: o.reason !== undefined ? o.reason : status === 'rejected' ? '資料有誤' : null,
      refund_amount: o.refund ?? null,
      refund_paid_on: o.refundPaidOn ?? null,
    })
    .returning('id');
  return row.id as number;
}

/**
 * A parent's order waiting for review (審核中), as the service leaves it: the pending subscription, applied for
 * on `on` by `by`, and its order request.
 */
export async function createOrder(
  knex: Knex,
  studentId: number,
  periodId: number,
  o: { on?: string; by?: string; arrival?: boolean; departure?: boolean } = {},
): Promise<{ subscriptionId: number; requestId: number }> {
  const subscriptionId = await createSubscription(knex, studentId, periodId, {
    status: 'pending',
    effectiveOn: null,
    ...(o.arrival !== undefined ? { arrival: o.arrival } : {}),
    ...(o.departure !== undefined ? { departure: o.departure } : {}),
    ...(o.by !== undefined ? { applicantName: o.by } : {}),
    ...(o.on !== undefined ? { appliedOn: o.on } : {}),
  });
  const requestId = await createRequest(knex, subscriptionId, {
    kind: 'order',
    ...(o.on !== undefined ? { requestedOn: o.on } : {}),
    ...(o.by !== undefined ? { byName: o.by } : {}),
  });
  return { subscriptionId, requestId };
}

/**
 * The guide's world: 市立忠孝國小 with 401 (林老師 t401) and 402 (張老師 t402), an admin, 王小明 (401, seat 1) with
 * an active subscription for 115學年度上學期 (到校SMS+離校SMS, NT$150 each, applicant 系統管理員), 陳小美 (401,
 * seat 2, another family, no subscription), 李小華 in 402 with an active subscription; and another school.
 */
export async function smsWorld(knex: Knex) {
  const w = await createSchoolWorld(knex);
  const periodId = await createPeriod(knex, w.schoolId, {
    name: '115學年度上學期',
    startsOn: '2026-08-31',
    endsOn: '2027-01-20',
  });
  const subscriptionId = await createSubscription(knex, w.student, periodId, {
    appliedOn: '2026-09-01',
    effectiveOn: '2026-09-02',
  });
  const otherChild = await createStudent(knex, w.class401, { name: '陳小美', studentNumber: '11301002', seat: 2 });
  const otherParent = await createParent(knex, [otherChild], { name: '陳媽媽' });
  const child402 = await createStudent(knex, w.class402, { name: '李小華', studentNumber: '11302001', seat: 1 });
  const parent402 = await createParent(knex, [child402], { name: '李爸爸' });
  const sub402 = await createSubscription(knex, child402, periodId, {});
  return { ...w, periodId, subscriptionId, otherChild, otherParent, child402, parent402, sub402 };
}

export async function userFor(knex: Knex, accountId: number): Promise<CurrentUser> {
  const u = await loadCurrentUser(knex, { accountId });
  if (!u) throw new Error(`no account ${accountId}`);
  return u;
}

/** What a test compares before and after a refused action: every row of the lifecycle tables. */
export async function lifecycleSnapshot(knex: Knex) {
  return {
    subscriptions: await knex('subscriptions').orderBy('id').select(),
    requests: await knex('review_requests').orderBy('id').select(),
    events: await knex('subscription_events').orderBy('id').select(),
  };
}
