/**
 * Parents are told of every decision (docs/product.md): an approval (with its effective date, and for a
 * cancellation the refund as stored on it) or a rejection (with the teacher's reason) shows on the parent's
 * 首頁 until they dismiss it. One notice per guardian of the student, written by the subscription service in
 * the decision's transaction; what it says is read from the request, so it is the figure every list shows.
 *
 * Scope: a parent reads and dismisses only the notices of their own guardian record(s) about children they
 * may see; anything else is "not found".
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { visibleStudentIds } from '../scope.js';
import type { RequestKind } from './lifecycle.js';
import { asDate, jsonRows, known, type Folded, type RowOrder } from '../folded.js';

/** The most notices 首頁 lists at once (older ones wait behind them). */
export const NOTICE_LIMIT = 50;

export interface DecisionNotice {
  id: number;
  requestId: number;
  subscriptionId: number;
  kind: RequestKind;
  status: 'approved' | 'rejected';
  effectiveOn: string | null;
  refundAmount: number | null;
  reason: string | null;
  decidedAt: Date;
  studentName: string;
  periodName: string;
  arrival: boolean;
  departure: boolean;
}

/** Inside the decision's transaction: a notice for each guardian of the request's student. */
export async function recordDecisionNotices(
  trx: Knex.Transaction,
  requestId: number,
  studentId: number,
  now: Date,
): Promise<void> {
  await trx.raw(
    `insert into decision_notices (request_id, guardian_id, created_at)
     select ?, gs.guardian_id, ? from guardian_students gs where gs.student_id = ?
     on conflict (request_id, guardian_id) do nothing`,
    [requestId, now, studentId],
  );
}

/** The guardians this parent session speaks for (its accounts, not disabled). */
function visibleGuardianIds(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  return knex('accounts as ga')
    .whereIn('ga.id', user.accountIds)
    .whereNull('ga.disabled_at')
    .whereNotNull('ga.guardian_id')
    .select('ga.guardian_id');
}

/** Notices of this parent not yet dismissed, newest first. */
function openNotices(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  return knex('decision_notices as n')
    .join('review_requests as r', 'r.id', 'n.request_id')
    .join('subscriptions as s', 's.id', 'r.subscription_id')
    .whereNull('n.dismissed_at')
    .whereIn('n.guardian_id', visibleGuardianIds(knex, user))
    .whereIn('s.student_id', visibleStudentIds(knex, user));
}

/** Newest first: the order 首頁 lists the notices in. */
const NOTICE_ORDER: RowOrder[] = [{ column: 'n.id', order: 'desc' }];

/** The parent's open notices as 首頁 lists them (at most NOTICE_LIMIT): the query. */
function noticesQuery(knex: Knex, user: CurrentUser): Knex.QueryBuilder {
  return openNotices(knex, user)
    .join('students as st', 'st.id', 's.student_id')
    .join('service_periods as p', 'p.id', 's.period_id')
    .orderBy(NOTICE_ORDER)
    .limit(NOTICE_LIMIT)
    .select(
      'n.id',
      'r.id as request_id',
      's.id as subscription_id',
      'r.kind',
      'r.status',
      'r.effective_on',
      'r.refund_amount',
      'r.decision_reason',
      'r.decided_at',
      'st.name as student_name',
      'p.name as period_name',
      's.arrival',
      's.departure',
    );
}

function toNotice(r: Record<string, unknown>): DecisionNotice {
  return {
    id: r.id as number,
    requestId: r.request_id as number,
    subscriptionId: r.subscription_id as number,
    kind: r.kind as RequestKind,
    status: r.status as 'approved' | 'rejected',
    effectiveOn: (r.effective_on as string | null) ?? null,
    refundAmount: (r.refund_amount as number | null) ?? null,
    reason: (r.decision_reason as string | null) ?? null,
    decidedAt: asDate(r.decided_at),
    studentName: r.student_name as string,
    periodName: r.period_name as string,
    arrival: r.arrival as boolean,
    departure: r.departure as boolean,
  };
}

export async function listDecisionNotices(knex: Knex, user: CurrentUser): Promise<DecisionNotice[]> {
  if (user.role !== 'parent') return [];
  return (await noticesQuery(knex, user)).map(toNotice);
}

/** `listDecisionNotices` as a part of a folded statement (folded.ts): the same query, its rows as JSON. */
export function decisionNoticesPart(knex: Knex, user: CurrentUser): Folded<DecisionNotice[]> {
  if (user.role !== 'parent') return known([]);
  return {
    sql: jsonRows(knex, noticesQuery(knex, user), NOTICE_ORDER),
    read: (v) => (v as Record<string, unknown>[]).map(toNotice),
  };
}

/**
 * 知道了: dismiss one notice (`noticeId`) or every open notice up to `upToId` (全部知道了: the ones the page
 * showed, not one that arrived since). Audited in the same transaction. Returns how many were dismissed;
 * a notice that is not this parent's answers "not found" (the caller's 404); one already dismissed is 0.
 */
export async function dismissDecisionNotices(
  knex: Knex,
  user: CurrentUser,
  target: { noticeId: number } | { upToId: number },
  now: Date,
  actor: Actor,
): Promise<number | 'not_found'> {
  if (user.role !== 'parent') return 'not_found';
  return knex.transaction(async (trx) => {
    const scoped = trx('decision_notices as dn')
      .whereIn('dn.guardian_id', visibleGuardianIds(trx, user))
      .whereIn(
        'dn.request_id',
        trx('review_requests as dr')
          .join('subscriptions as ds', 'ds.id', 'dr.subscription_id')
          .whereIn('ds.student_id', visibleStudentIds(trx, user))
          .select('dr.id'),
      );
    if ('noticeId' in target) {
      const mine = await scoped.clone().where('dn.id', target.noticeId).first('dn.id');
      if (!mine) return 'not_found';
    }
    const q = trx('decision_notices').whereNull('dismissed_at').whereIn('id', scoped.clone().select('dn.id'));
    if ('noticeId' in target) q.where('id', target.noticeId);
    else q.where('id', '<=', target.upToId);
    const ids = (await q.update({ dismissed_at: now, dismissed_by_account_id: user.accountId }).returning('id')).map(
      (r: { id: number }) => r.id,
    );
    if (ids.length > 0)
      await audit(trx, actor, {
        action: 'decision_notice.dismissed',
        actorAccountId: user.accountId,
        schoolId: user.schoolId,
        targetType: 'decision_notice',
        targetId: 'noticeId' in target ? target.noticeId : `<=${target.upToId}`,
        details: { count: ids.length, ids: ids.slice(0, 50) },
      });
    return ids.length;
  });
}
