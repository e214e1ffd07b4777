/**
 * 簡訊服務期間: a school admin creates and edits the school's service periods (name, dates, fee per item).
 * A period that has subscriptions keeps them: its fees cannot change and its dates can only be extended; there is
 * no delete. Teachers may read the list.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import {
  createPeriod,
  dateOrderProblem,
  FEE_MESSAGE,
  PeriodError,
  periodsOf,
  updatePeriod,
} from '../domain/subscriptions/service-periods.js';
import { actorOf } from '../middleware/actor.js';
import { csrfField, date, fieldErrors, paramId, text } from '../validation.js';

const fee = z
  .string({ error: FEE_MESSAGE })
  .regex(/^\d{1,6}$/, FEE_MESSAGE)
  .transform(Number);

const periodForm = z.strictObject({
  ...csrfField,
  name: text(60, { min: 1 }),
  startsOn: date,
  endsOn: date,
  arrivalFee: fee,
  departureFee: fee,
});

type PeriodValues = { name: string; startsOn: string; endsOn: string; arrivalFee: string; departureFee: string };
const EMPTY: PeriodValues = { name: '', startsOn: '', endsOn: '', arrivalFee: '150', departureFee: '150' };

/** The form's field errors, with the dates' order checked too when both dates are valid. */
function formErrors(body: unknown, error: z.ZodError): Record<string, string> {
  const errors = fieldErrors(error);
  const b = (body ?? {}) as Record<string, unknown>;
  const order = dateOrderProblem(b.startsOn, b.endsOn);
  if (order && !errors.endsOn) errors.endsOn = order;
  return errors;
}

function typedValues(body: unknown): PeriodValues {
  const b = (body ?? {}) as Record<string, unknown>;
  const s = (k: keyof PeriodValues) => (typeof b[k] === 'string' ? (b[k] as string).slice(0, 240) : '');
  return {
    name: s('name'),
    startsOn: s('startsOn'),
    endsOn: s('endsOn'),
    arrivalFee: s('arrivalFee'),
    departureFee: s('departureFee'),
  };
}

async function renderList(
  req: Request,
  res: Response,
  status: number,
  values: PeriodValues,
  errors: Record<string, string>,
) {
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

/** POST /sms/periods (school admin) */
export async function create(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const parsed = periodForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) return renderList(req, res, 422, typedValues(req.body), formErrors(req.body, parsed.error));
  const { _csrf: _, ...v } = parsed.data;
  try {
    await createPeriod(db.knex, actorOf(req), user.schoolId, v);
  } catch (err) {
    if (err instanceof PeriodError) return renderList(req, res, 422, typedValues(req.body), err.errors);
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
    values: {
      name: p.name,
      startsOn: p.starts_on,
      endsOn: p.ends_on,
      arrivalFee: String(p.arrival_fee),
      departureFee: String(p.departure_fee),
    },
    errors: {},
  });
}

/** POST /sms/periods/:id (school admin) */
export async function update(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const p = await loadPeriod(req);
  const again = (status: number, errors: Record<string, string>) =>
    res
      .status(status)
      .render('periods/edit', { title: '編輯簡訊服務期間', period: p, values: typedValues(req.body), errors });
  const parsed = periodForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) return again(422, formErrors(req.body, parsed.error));
  const { _csrf: _, ...v } = parsed.data;
  try {
    await updatePeriod(db.knex, actorOf(req), user.schoolId, p.id, v);
  } catch (err) {
    if (err instanceof PeriodError) return again(422, err.errors);
    throw err;
  }
  setFlash(req, 'success', `已更新簡訊服務期間「${v.name}」。`);
  res.redirect(303, '/sms/periods');
}
