/**
 * The only writer of subscription and review-request status. Each operation is one transaction: a scoped read
 * to decide with the lifecycle, then a conditional `UPDATE … WHERE id = ? AND status = ? AND <scope> RETURNING *`
 * (PostgreSQL re-checks the WHERE after waiting on a row lock, so a concurrent loser updates 0 rows), then the
 * event row. 0 rows → re-read: not visible → 404, otherwise 「此申請已處理」 (409). Never a double transition.
 */
import type { Knex } from 'knex';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { DomainError, NotFoundError } from '../errors.js';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { visibleStudentIds } from '../scope.js';
import { loadHolidays } from '../schools/school-calendar.js';
import { recordDecisionNotices } from './decision-notices.js';
import { MONEY_COLUMNS } from './lifecycle-sql.js';
import {
  ALLOWED_ROLES,
  MESSAGES,
  approvalEffectiveDate,
  decide,
  chargedOf,
  feeOf,
  isExpired,
  orderCharge,
  refundAmount,
  type DayAmount,
  type Decision,
  type FeeInput,
  type PeriodDates,
  type StoredCharge,
  type LifecycleEvent,
  type RequestKind,
  type SubscriptionStatus,
} from './lifecycle.js';

export const ALREADY_DECIDED = '此申請已處理，請重新整理頁面查看最新狀態。';

/** A refused transition: the user sees the message; nothing changed. */
export class TransitionError extends DomainError {
  constructor(
    message: string,
    readonly refusal: string,
    kind: 'conflict' | 'forbidden' = 'conflict',
  ) {
    super(kind, message);
    this.name = 'TransitionError';
  }
}

/** Input that does not fit (e.g. a period of another school): the form shows it beside the field. */
export class ServiceInputError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid', message);
    this.name = 'ServiceInputError';
  }
}

export interface ServiceOptions {
  logger?: Logger | undefined;
  /** Tests only: called inside the transaction right after the first conditional UPDATE succeeded. */
  afterUpdate?: (operation: string) => void | Promise<void>;
}

type Trx = Knex.Transaction;

function refusalError(d: Extract<Decision, { ok: false }>): DomainError {
  switch (d.refusal) {
    case 'not_found':
      return new NotFoundError();
    case 'not_allowed':
      return new TransitionError(d.message, d.refusal, 'forbidden');
    case 'invalid':
      return new TransitionError(ALREADY_DECIDED, d.refusal);
    case 'reason_required':
      return new ServiceInputError('reason', d.message);
    case 'expired':
      return new TransitionError(d.message, d.refusal);
  }
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e?.code === '23505' && (e.constraint === constraint || (e.message ?? '').includes(constraint));
}

/** The periods a student's school offers for ordering today: the current one and the next one. */
export async function orderablePeriods(knex: Knex, schoolId: number, today: string) {
  const rows = await knex('service_periods')
    .where('school_id', schoolId)
    .where('ends_on', '>=', today)
    .orderBy('starts_on')
    .limit(10)
    .select('id', 'name', 'starts_on', 'ends_on', 'arrival_fee', 'departure_fee', 'school_id');
  const current = rows.filter((p) => p.starts_on <= today);
  const next = rows.find((p) => p.starts_on > today);
  return [...current, ...(next ? [next] : [])] as {
    id: number;
    name: string;
    starts_on: string;
    ends_on: string;
    arrival_fee: number;
    departure_fee: number;
    school_id: number;
  }[];
}

export class SubscriptionService {
  constructor(
    private readonly knex: Knex,
    private readonly clock: Clock,
    private readonly options: ServiceOptions = {},
  ) {}

  /** A parent's order or cancellation, waiting for review (審核中), asked at `at`. */
  private async openRequest(
    trx: Trx,
    user: CurrentUser,
    subscriptionId: number,
    kind: RequestKind,
    at: { today: string; now: Date },
  ): Promise<{ id: number }> {
    const [req] = await trx('review_requests')
      .insert({
        subscription_id: subscriptionId,
        kind,
        status: 'pending',
        requested_by_account_id: user.accountId,
        requested_by_name: user.displayName,
        requested_on: at.today,
        requested_at: at.now,
      })
      .returning('id');
    return req as { id: number };
  }

  private async event(
    trx: Trx,
    user: CurrentUser,
    e: {
      subscriptionId: number;
      requestId: number | null;
      event: LifecycleEvent;
      from: SubscriptionStatus | null;
      to: SubscriptionStatus;
      reason?: string | null;
    },
  ): Promise<void> {
    await trx('subscription_events').insert({
      subscription_id: e.subscriptionId,
      request_id: e.requestId,
      event: e.event,
      from_status: e.from,
      to_status: e.to,
      actor_account_id: user.accountId,
      actor_role: user.role,
      actor_name: user.displayName,
      reason: e.reason ?? null,
      created_at: this.clock.now(),
    });
    this.options.logger?.info(
      {
        subscriptionId: e.subscriptionId,
        requestId: e.requestId,
        event: e.event,
        from: e.from,
        to: e.to,
        actor: user.accountId,
        role: user.role,
      },
      'subscription transition',
    );
  }

  /** Subscriptions this user may touch, as a subquery (the scope of every UPDATE). */
  private scopedSubscriptionIds(trx: Trx, user: CurrentUser): Knex.QueryBuilder {
    return trx('subscriptions as ss').whereIn('ss.student_id', visibleStudentIds(trx, user)).select('ss.id');
  }

  /** 新增申請: a pending subscription and its order request. */
  async order(
    user: CurrentUser,
    input: { studentId: number; periodId: number; arrival: boolean; departure: boolean },
  ): Promise<{ subscriptionId: number; requestId: number; fee: number }> {
    const today = this.clock.today();
    const now = this.clock.now();
    try {
      return await this.knex.transaction(async (trx) => {
        const student = await trx('students as st')
          .where('st.id', input.studentId)
          .whereIn('st.id', visibleStudentIds(trx, user))
          .first('st.id', 'st.school_id');
        if (!student) throw new NotFoundError();
        if (!ALLOWED_ROLES.order.includes(user.role))
          throw new TransitionError(MESSAGES.not_allowed, 'not_allowed', 'forbidden');
        const periods = await orderablePeriods(trx, student.school_id as number, today);
        const period = periods.find((p) => p.id === input.periodId);
        if (!period) throw new ServiceInputError('periodId', '請選擇本學校目前或下一期的簡訊服務。');
        if (!input.arrival && !input.departure)
          throw new ServiceInputError('items', '請至少選擇一個申請項目（到校SMS 或 離校SMS）。');
        const d = decide(null, 'order', { role: user.role, related: true }, { expired: isExpired(period, today) });
        if (!d.ok) throw refusalError(d);
        const [sub] = await trx('subscriptions')
          .insert({
            student_id: student.id,
            period_id: period.id,
            arrival: input.arrival,
            departure: input.departure,
            status: d.to,
            applicant_account_id: user.accountId,
            applicant_name: user.displayName,
            applied_on: today,
            created_at: now,
            updated_at: now,
          })
          .returning('id');
        const req = await this.openRequest(trx, user, sub.id, 'order', { today, now });
        await this.options.afterUpdate?.('order');
        await this.event(trx, user, {
          subscriptionId: sub.id,
          requestId: req.id,
          event: 'order',
          from: null,
          to: d.to,
        });
        return {
          subscriptionId: sub.id as number,
          requestId: req.id as number,
          fee: feeOf({
            arrival: input.arrival,
            departure: input.departure,
            arrival_fee: period.arrival_fee,
            departure_fee: period.departure_fee,
          }),
        };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'subscriptions_one_live_per_period'))
        throw new TransitionError('此學生在這個簡訊服務期間已有審核中或生效的訂購，不需重複申請。', 'duplicate');
      throw err;
    }
  }

  /** 註銷: an active subscription whose period has not ended → cancel_pending, with a cancellation request. */
  async cancel(user: CurrentUser, subscriptionId: number): Promise<{ requestId: number }> {
    const today = this.clock.today();
    const now = this.clock.now();
    try {
      return await this.knex.transaction(async (trx) => {
        const row = await trx('subscriptions as s')
          .join('service_periods as p', 'p.id', 's.period_id')
          .where('s.id', subscriptionId)
          .whereIn('s.student_id', visibleStudentIds(trx, user))
          .first('s.id', 's.status', 'p.starts_on', 'p.ends_on');
        if (!row) throw new NotFoundError();
        const d = decide(row.status, 'cancel', { role: user.role, related: true }, { expired: isExpired(row, today) });
        if (!d.ok) {
          if (d.refusal === 'invalid') throw new TransitionError('只有「生效」中的訂購可以註銷。', 'invalid');
          throw refusalError(d);
        }
        const updated = await trx('subscriptions')
          .where({ id: subscriptionId, status: 'active' })
          .whereIn('student_id', visibleStudentIds(trx, user))
          .update({ status: d.to, updated_at: now })
          .returning('id');
        if (updated.length === 0) throw await this.lostRace(trx, user, 'subscription', subscriptionId);
        await this.options.afterUpdate?.('cancel');
        const req = await this.openRequest(trx, user, subscriptionId, 'cancellation', { today, now });
        await this.event(trx, user, { subscriptionId, requestId: req.id, event: 'cancel', from: 'active', to: d.to });
        return { requestId: req.id as number };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'review_requests_one_open'))
        throw new TransitionError('此訂購已有審核中的申請。', 'duplicate');
      throw err;
    }
  }

  approve(user: CurrentUser, requestId: number) {
    return this.decideRequest(user, requestId, 'approve');
  }

  reject(user: CurrentUser, requestId: number, reason: string) {
    return this.decideRequest(user, requestId, 'reject', reason);
  }

  /** 取消: the parent takes back a pending order (→ withdrawn) or a pending cancellation (→ active again). */
  withdraw(user: CurrentUser, requestId: number) {
    return this.decideRequest(user, requestId, 'withdraw');
  }

  /**
   * 批次核准: each request in its own transaction; returns how many were approved, how many were not, and how
   * many of each kind take effect on each date (an order for a period still to come: the period's first day).
   */
  async batchApprove(
    user: CurrentUser,
    requestIds: number[],
  ): Promise<{
    approved: number;
    skipped: number;
    byDate: { kind: 'order' | 'cancellation'; effectiveOn: string; count: number }[];
  }> {
    let approved = 0;
    let skipped = 0;
    const byDate = new Map<string, { kind: 'order' | 'cancellation'; effectiveOn: string; count: number }>();
    for (const id of [...new Set(requestIds)]) {
      try {
        const r = await this.approve(user, id);
        approved++;
        const key = `${r.kind}/${r.effectiveOn}`;
        const group = byDate.get(key) ?? { kind: r.kind, effectiveOn: r.effectiveOn as string, count: 0 };
        group.count++;
        byDate.set(key, group);
      } catch (err) {
        if (err instanceof DomainError) skipped++;
        else throw err;
      }
    }
    const groups = [...byDate.values()].sort((a, b) =>
      a.kind === b.kind ? a.effectiveOn.localeCompare(b.effectiveOn) : a.kind === 'order' ? -1 : 1,
    );
    return { approved, skipped, byDate: groups };
  }

  private async decideRequest(
    user: CurrentUser,
    requestId: number,
    event: 'approve' | 'reject' | 'withdraw',
    reason?: string,
  ): Promise<{
    kind: 'order' | 'cancellation';
    to: SubscriptionStatus;
    effectiveOn: string | null;
    refund: number | null;
    subscriptionId: number;
  }> {
    const today = this.clock.today();
    const now = this.clock.now();
    return this.knex.transaction(async (trx) => {
      const row = await trx('review_requests as r')
        .join('subscriptions as s', 's.id', 'r.subscription_id')
        .join('service_periods as p', 'p.id', 's.period_id')
        .where('r.id', requestId)
        .whereIn('s.student_id', visibleStudentIds(trx, user))
        .first('r.id', 'r.kind', 'r.status as request_status', 'r.subscription_id', 's.student_id', ...MONEY_COLUMNS);
      if (!row) throw new NotFoundError();
      if (!ALLOWED_ROLES[event].includes(user.role))
        throw new TransitionError(MESSAGES.not_allowed, 'not_allowed', 'forbidden');
      if (row.request_status !== 'pending') throw new TransitionError(ALREADY_DECIDED, 'invalid');
      const d = decide(
        row.status,
        event,
        { role: user.role, related: true },
        { expired: isExpired(row, today), reason },
      );
      if (!d.ok) throw refusalError(d);
      const effectiveOn = event === 'approve' ? approvalEffectiveDate(row.kind, today, row) : null;
      // The money of an approval, by school day (docs/product.md): what the order is charged, or what the cancellation refunds.
      const money = event === 'approve' ? await this.approvalMoney(trx, row, effectiveOn as string) : undefined;
      const refund = money?.refund?.amount ?? null;
      const updated = await trx('review_requests')
        .where({ id: requestId, status: 'pending' })
        .whereIn('subscription_id', this.scopedSubscriptionIds(trx, user))
        .update({
          status: d.requestStatus,
          decided_by_account_id: user.accountId,
          decided_at: now,
          decision_reason: event === 'reject' ? (reason ?? '').trim() : null,
          effective_on: effectiveOn,
          refund_amount: refund,
          refund_days: money?.refund?.days ?? null,
          refund_period_days: money?.refund?.periodDays ?? null,
        })
        .returning('id');
      if (updated.length === 0) throw await this.lostRace(trx, user, 'request', requestId);
      await this.options.afterUpdate?.(event);
      const patch: Record<string, unknown> = { status: d.to, updated_at: now };
      if (event === 'approve' && row.kind === 'order') patch.effective_on = effectiveOn;
      if (money?.charge)
        Object.assign(patch, {
          charge_amount: money.charge.amount,
          charge_days: money.charge.days,
          charge_period_days: money.charge.periodDays,
        });
      if (event === 'approve' && row.kind === 'cancellation') patch.cancelled_on = effectiveOn;
      const subUpdated = await trx('subscriptions')
        .where({ id: row.subscription_id, status: row.status })
        .whereIn('student_id', visibleStudentIds(trx, user))
        .update(patch)
        .returning('id');
      if (subUpdated.length === 0) throw new TransitionError(ALREADY_DECIDED, 'race');
      await this.event(trx, user, {
        subscriptionId: row.subscription_id,
        requestId,
        event,
        from: row.status,
        to: d.to,
        reason: event === 'reject' ? (reason ?? '').trim() : null,
      });
      // Parents are told of a decision (首頁) until they dismiss it; their own 取消 needs no notice.
      if (event !== 'withdraw') await recordDecisionNotices(trx, requestId, row.student_id as number, now);
      return { kind: row.kind, to: d.to, effectiveOn, refund, subscriptionId: row.subscription_id as number };
    });
  }

  /**
   * The money an approval fixes, counted on the school's calendar: an order's charge (應繳) from its effective
   * date, or a cancellation's refund (退費) from its effective date against what the order was charged (the whole
   * fee for an order approved before this rule stored its charge).
   */
  private async approvalMoney(
    trx: Trx,
    row: FeeInput & PeriodDates & StoredCharge & { kind: string; school_id: number },
    effectiveOn: string,
  ): Promise<{ charge?: DayAmount; refund?: DayAmount }> {
    const holidays = await loadHolidays(trx, row.school_id, row.starts_on, row.ends_on);
    const fee = feeOf(row);
    if (row.kind === 'order') return { charge: orderCharge(fee, row, effectiveOn, holidays) };
    const charged = chargedOf(row, holidays);
    return { refund: refundAmount(fee, charged, row, effectiveOn, holidays) };
  }

  /** 退費完成: a school admin marks an approved cancellation's refund as paid on a date (audited). */
  async markRefundPaid(user: CurrentUser, requestId: number, paidOn: string, actor: Actor): Promise<void> {
    if (user.role !== 'school_admin') throw new NotFoundError();
    const today = this.clock.today();
    if (paidOn > today) throw new ServiceInputError('paidOn', '退費日期不可晚於今天。');
    await this.knex.transaction(async (trx) => {
      // Only for an order that was paid (繳費), and not before its payment date.
      const paidBefore = trx('payments as pm')
        .whereRaw('pm.subscription_id = review_requests.subscription_id')
        .where('pm.paid_on', '<=', paidOn)
        .select(trx.raw('1'));
      const updated = await trx('review_requests')
        .where({ id: requestId, kind: 'cancellation', status: 'approved' })
        .whereNull('refund_paid_on')
        .whereIn('subscription_id', this.scopedSubscriptionIds(trx, user))
        .whereExists(paidBefore)
        .update({ refund_paid_on: paidOn, refund_paid_by_account_id: user.accountId })
        .returning(['id', 'refund_amount', 'subscription_id']);
      if (updated.length === 0) {
        const row = await trx('review_requests as r')
          .join('subscriptions as s', 's.id', 'r.subscription_id')
          .leftJoin('payments as pm', 'pm.subscription_id', 's.id')
          .where('r.id', requestId)
          .whereIn('s.student_id', visibleStudentIds(trx, user))
          .first('r.kind', 'r.status', 'r.refund_paid_on', 'pm.paid_on');
        if (!row || row.kind !== 'cancellation') throw new NotFoundError();
        if (row.refund_paid_on) throw new TransitionError('此筆退費已標示為退費完成。', 'invalid');
        if (row.status !== 'approved') throw new TransitionError('只有已核准的註銷申請可以標示退費完成。', 'invalid');
        if (!row.paid_on) throw new TransitionError('此訂購尚未繳費，無法標示退費完成：請先登錄繳費。', 'unpaid');
        throw new ServiceInputError('paidOn', `退費日期不可早於繳費日期（${row.paid_on as string}）。`);
      }
      const u = updated[0] as { id: number; refund_amount: number | null; subscription_id: number };
      await audit(trx, actor, {
        action: 'refund.paid',
        actorAccountId: user.accountId,
        schoolId: user.schoolId,
        targetType: 'review_request',
        targetId: requestId,
        details: { subscriptionId: u.subscription_id, amount: u.refund_amount, paidOn },
      });
    });
  }

  /** After a 0-row UPDATE: not visible (404), or somebody else got there first. */
  private async lostRace(
    trx: Trx,
    user: CurrentUser,
    what: 'request' | 'subscription',
    id: number,
  ): Promise<DomainError> {
    const visible =
      what === 'request'
        ? await trx('review_requests as r')
            .join('subscriptions as s', 's.id', 'r.subscription_id')
            .where('r.id', id)
            .whereIn('s.student_id', visibleStudentIds(trx, user))
            .first('r.id')
        : await trx('subscriptions as s')
            .where('s.id', id)
            .whereIn('s.student_id', visibleStudentIds(trx, user))
            .first('s.id');
    return visible ? new TransitionError(ALREADY_DECIDED, 'race') : new NotFoundError();
  }
}
