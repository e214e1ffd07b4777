/**
 * 簡訊服務期間: a school admin creates and edits the school's service periods (name, dates, fee per item).
 * A period that has subscriptions keeps them: its fees cannot change and its dates can only be extended; there is
 * no delete. Teachers may read the list.
 */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { audit } from '../domain/audit.js';
import { csrfField, date, fieldErrors, paramId, text } from '../validation.js';

const fee = z
  .string({ error: '請輸入 0 到 100000 的整數' })
  .regex(/^\d{1,6}$/, '請輸入 0 到 100000 的整數')
  .transform(Number)
  .pipe(z.number().int().max(100000, '請輸入 0 到 100000 的整數'));

const periodForm = z
  .strictObject({
    ...csrfField,
    name: text(60, { min: 1 }),
    startsOn: date,
    endsOn: date,
    arrivalFee: fee,
    departureFee: fee,
  })
  .refine((v) => v.endsOn >= v.startsOn, { path: ['endsOn'], message: '結束日期不可早於開始日期' });

type PeriodValues = { name: string; startsOn: string; endsOn: string; arrivalFee: string; departureFee: string };
const EMPTY: PeriodValues = { name: '', startsOn: '', endsOn: '', arrivalFee: '150', departureFee: '150' };

function typedValues(body: unknown): PeriodValues {
  const b = (body ?? {}) as Record<string, unknown>;
  const s = (k: keyof PeriodValues) => (typeof b[k] === 'string' ? (b[k] as string).slice(0, 240) : '');
  return { name: s('name'), startsOn: s('startsOn'), endsOn: s('endsOn'), arrivalFee: s('arrivalFee'), departureFee: s('departureFee') };
}

async function periodsOf(knex: Knex, schoolId: number) {
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

async function renderList(req: Request, res: Response, status: number, values: PeriodValues, errors: Record<string, string>) {
  const user = userOf(req);
  const { db } = depsOf(req);
  res.status(status).render('periods/index', {
    title: '簡訊服務期間',
    periods: await periodsOf(db.knex, user.schoolId),
    isAdmin: user.role === 'school_admin',
    values,
    errors,
  });
}

/** GET /sms/periods */
export async function list(req: Request, res: Response): Promise<void> {
  await renderList(req, res, 200, EMPTY, {});
}

function isUniqueName(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505';
}

/** POST /sms/periods (school admin) */
export async function create(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const parsed = periodForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) return renderList(req, res, 422, typedValues(req.body), fieldErrors(parsed.error));
  const v = parsed.data;
  try {
    await db.knex.transaction(async (trx) => {
      const [row] = await trx('service_periods')
        .insert({
          school_id: user.schoolId,
          name: v.name,
          starts_on: v.startsOn,
          ends_on: v.endsOn,
          arrival_fee: v.arrivalFee,
          departure_fee: v.departureFee,
          created_at: clock.now(),
          updated_at: clock.now(),
        })
        .returning('id');
      await audit(trx, req, { action: 'period.create', targetType: 'service_period', targetId: row.id, details: { ...v, _csrf: undefined } });
    });
  } catch (err) {
    if (isUniqueName(err)) return renderList(req, res, 422, typedValues(req.body), { name: '本校已有同名的簡訊服務期間' });
    throw err;
  }
  setFlash(req, 'success', `已新增簡訊服務期間「${v.name}」。`);
  res.redirect(303, '/sms/periods');
}

async function loadPeriod(req: Request) {
  const periodId = paramId(req);
  const { db } = depsOf(req);
  const [period] = (await periodsOf(db.knex, userOf(req).schoolId)).filter((p) => p.id === periodId);
  if (!period) throw new NotFoundError();
  return period;
}

/** GET /sms/periods/:id/edit (school admin) */
export async function edit(req: Request, res: Response): Promise<void> {
  const p = await loadPeriod(req);
  res.render('periods/edit', {
    title: '編輯簡訊服務期間',
    period: p,
    values: { name: p.name, startsOn: p.starts_on, endsOn: p.ends_on, arrivalFee: String(p.arrival_fee), departureFee: String(p.departure_fee) },
    errors: {},
  });
}

/** POST /sms/periods/:id (school admin) */
export async function update(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const p = await loadPeriod(req);
  const again = (status: number, errors: Record<string, string>) =>
    res.status(status).render('periods/edit', { title: '編輯簡訊服務期間', period: p, values: typedValues(req.body), errors });
  const parsed = periodForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) return again(422, fieldErrors(parsed.error));
  const v = parsed.data;
  let errors: Record<string, string> = {};
  try {
    await db.knex.transaction(async (trx) => {
      const current = await trx('service_periods').where({ id: p.id, school_id: user.schoolId }).forUpdate().first();
      if (!current) throw new NotFoundError();
      const used = await trx('subscriptions').where('period_id', p.id).first('id');
      if (used) {
        if (v.startsOn > current.starts_on) errors.startsOn = '此期間已有訂購，開始日期只能提前，不能延後';
        if (v.endsOn < current.ends_on) errors.endsOn = '此期間已有訂購，結束日期只能延後，不能提前';
        if (v.arrivalFee !== current.arrival_fee) errors.arrivalFee = '此期間已有訂購，費用不可變更';
        if (v.departureFee !== current.departure_fee) errors.departureFee = '此期間已有訂購，費用不可變更';
        if (Object.keys(errors).length > 0) return;
      }
      await trx('service_periods')
        .where({ id: p.id, school_id: user.schoolId })
        .update({ name: v.name, starts_on: v.startsOn, ends_on: v.endsOn, arrival_fee: v.arrivalFee, departure_fee: v.departureFee, updated_at: clock.now() });
      await audit(trx, req, {
        action: 'period.update',
        targetType: 'service_period',
        targetId: p.id,
        details: { before: { name: current.name, startsOn: current.starts_on, endsOn: current.ends_on, arrivalFee: current.arrival_fee, departureFee: current.departure_fee }, after: { name: v.name, startsOn: v.startsOn, endsOn: v.endsOn, arrivalFee: v.arrivalFee, departureFee: v.departureFee } },
      });
    });
  } catch (err) {
    if (isUniqueName(err)) errors = { name: '本校已有同名的簡訊服務期間' };
    else throw err;
  }
  if (Object.keys(errors).length > 0) return again(422, errors);
  setFlash(req, 'success', `已更新簡訊服務期間「${v.name}」。`);
  res.redirect(303, '/sms/periods');
}
