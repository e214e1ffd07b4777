/**
 * A school's SMS service periods (簡訊服務): name, dates and fee per item. One rule set for the school office's
 * page and the `period:create` script alike:
 * - a name of 1–60 characters (no control characters), unique within the school;
 * - valid dates, the end not before the start, and no overlap with another period of the school;
 * - fees in whole NT$ from 0 to 100,000;
 * - a period that has subscriptions keeps them: its fees cannot change and its dates can only be extended.
 * Created and changed in one transaction with its audit row; the school's row is locked first, so two offices
 * (or a script and a page) cannot create overlapping periods at once.
 */
import type { Knex } from 'knex';
import { audit, type Actor } from '../audit.js';
import { DomainError, NotFoundError } from '../errors.js';
import { hasControlChars } from '../text.js';
import { isValidDate } from '../time.js';

export interface PeriodInput {
  name: string;
  startsOn: string;
  endsOn: string;
  arrivalFee: number;
  departureFee: number;
}

export type PeriodField = keyof PeriodInput;

/** Every problem of a period at once, by field (the page shows each beside its field; the script lists them). */
export class PeriodError extends DomainError {
  constructor(readonly errors: Partial<Record<PeriodField, string>>) {
    super('invalid', Object.values(errors).join('；'));
    this.name = 'PeriodError';
  }
}

export const MAX_FEE = 100_000;
export const FEE_MESSAGE = `請輸入 0 到 ${MAX_FEE} 的整數`;
export const END_BEFORE_START = '結束日期不可早於開始日期';

/** The period's dates in order? (a form whose other fields failed to parse still shows this at once) */
export function dateOrderProblem(startsOn: unknown, endsOn: unknown): string | undefined {
  if (typeof startsOn !== 'string' || typeof endsOn !== 'string' || !isValidDate(startsOn) || !isValidDate(endsOn))
    return undefined;
  return endsOn < startsOn ? END_BEFORE_START : undefined;
}

/** The checks that need no database. */
function shapeErrors(v: PeriodInput): Partial<Record<PeriodField, string>> {
  const errors: Partial<Record<PeriodField, string>> = {};
  if (v.name.length < 1 || v.name.length > 60 || hasControlChars(v.name))
    errors.name = '簡訊服務名稱必填，最多 60 個字，不可含控制字元';
  if (!isValidDate(v.startsOn)) errors.startsOn = `開始日期「${v.startsOn}」不是有效的日期（YYYY-MM-DD）`;
  if (!isValidDate(v.endsOn)) errors.endsOn = `結束日期「${v.endsOn}」不是有效的日期（YYYY-MM-DD）`;
  else if (!errors.startsOn) {
    const order = dateOrderProblem(v.startsOn, v.endsOn);
    if (order) errors.endsOn = order;
  }
  for (const f of ['arrivalFee', 'departureFee'] as const) {
    if (!Number.isInteger(v[f]) || v[f] < 0 || v[f] > MAX_FEE) errors[f] = FEE_MESSAGE;
  }
  return errors;
}

/** The checks against the school's other periods (`exceptId`: the period being edited). */
async function conflictErrors(trx: Knex.Transaction, schoolId: number, v: PeriodInput, exceptId?: number) {
  const errors: Partial<Record<PeriodField, string>> = {};
  const others = trx('service_periods')
    .where('school_id', schoolId)
    .modify((q) => {
      if (exceptId !== undefined) q.whereNot('id', exceptId);
    });
  const dup = await others.clone().where('name', v.name).first('id');
  if (dup) errors.name = `本校已有名為「${v.name}」的簡訊服務期間`;
  const overlap = await others
    .clone()
    .where('starts_on', '<=', v.endsOn)
    .where('ends_on', '>=', v.startsOn)
    .orderBy('starts_on')
    .first('name');
  if (overlap) errors.startsOn = `與既有的簡訊服務期間「${overlap.name}」日期重疊`;
  return errors;
}

const lockSchool = (trx: Knex.Transaction, schoolId: number) =>
  trx('schools').where('id', schoolId).forUpdate().first('id');

/** Thrown inside the transaction to roll a dry run back after every check ran. */
class DryRun extends Error {}

/** Create a period of `schoolId`. With `dryRun`, every check runs and nothing is written (id undefined). */
export async function createPeriod(
  knex: Knex,
  actor: Actor,
  schoolId: number,
  v: PeriodInput,
  o: { dryRun?: boolean } = {},
): Promise<{ id: number | undefined }> {
  const shape = shapeErrors(v);
  if (Object.keys(shape).length > 0) throw new PeriodError(shape);
  const out: { id: number | undefined } = { id: undefined };
  try {
    await knex.transaction(async (trx) => {
      if (!(await lockSchool(trx, schoolId))) throw new NotFoundError();
      const conflicts = await conflictErrors(trx, schoolId, v);
      if (Object.keys(conflicts).length > 0) throw new PeriodError(conflicts);
      if (o.dryRun) throw new DryRun();
      const [row] = await trx('service_periods')
        .insert({
          school_id: schoolId,
          name: v.name,
          starts_on: v.startsOn,
          ends_on: v.endsOn,
          arrival_fee: v.arrivalFee,
          departure_fee: v.departureFee,
        })
        .returning('id');
      out.id = row.id as number;
      await audit(trx, actor, {
        action: 'period.created',
        schoolId,
        targetType: 'service_period',
        targetId: out.id,
        details: { ...v },
      });
    });
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
  }
  return out;
}

/** Change a period of `schoolId` (404 when it is not the school's). */
export async function updatePeriod(
  knex: Knex,
  actor: Actor,
  schoolId: number,
  periodId: number,
  v: PeriodInput,
): Promise<void> {
  const shape = shapeErrors(v);
  if (Object.keys(shape).length > 0) throw new PeriodError(shape);
  await knex.transaction(async (trx) => {
    if (!(await lockSchool(trx, schoolId))) throw new NotFoundError();
    const current = await trx('service_periods').where({ id: periodId, school_id: schoolId }).forUpdate().first();
    if (!current) throw new NotFoundError();
    const errors = await conflictErrors(trx, schoolId, v, periodId);
    const used = await trx('subscriptions').where('period_id', periodId).first('id');
    if (used) {
      if (v.startsOn > current.starts_on) errors.startsOn = '此期間已有訂購，開始日期只能提前，不能延後';
      if (v.endsOn < current.ends_on) errors.endsOn = '此期間已有訂購，結束日期只能延後，不能提前';
      if (v.arrivalFee !== current.arrival_fee) errors.arrivalFee = '此期間已有訂購，費用不可變更';
      if (v.departureFee !== current.departure_fee) errors.departureFee = '此期間已有訂購，費用不可變更';
    }
    if (Object.keys(errors).length > 0) throw new PeriodError(errors);
    await trx('service_periods').where({ id: periodId, school_id: schoolId }).update({
      name: v.name,
      starts_on: v.startsOn,
      ends_on: v.endsOn,
      arrival_fee: v.arrivalFee,
      departure_fee: v.departureFee,
      updated_at: trx.fn.now(),
    });
    const before = {
      name: current.name,
      startsOn: current.starts_on,
      endsOn: current.ends_on,
      arrivalFee: current.arrival_fee,
      departureFee: current.departure_fee,
    };
    await audit(trx, actor, {
      action: 'period.updated',
      schoolId,
      targetType: 'service_period',
      targetId: periodId,
      details: { before, after: { ...v } },
    });
  });
}

/** A school's periods, newest first, with how many subscriptions each has. */
export function periodsOf(knex: Knex, schoolId: number) {
  return knex('service_periods as p')
    .where('p.school_id', schoolId)
    .orderBy('p.starts_on', 'desc')
    .limit(200)
    .select(
      'p.id',
      'p.name',
      'p.starts_on',
      'p.ends_on',
      'p.arrival_fee',
      'p.departure_fee',
      knex.raw('(select count(*)::int from subscriptions s where s.period_id = p.id) as subscription_count'),
    );
}
