/**
 * 繳費管理 (school office): a class's approved orders with what each is charged and its 繳費狀態; 登錄繳費 one by
 * one or for the ticked orders of the class (收據號碼 from the school's sequence). The printable pages: a class's
 * 繳費通知單 (staff of the class), one payment's 收據 (whoever may see the student), a class's 退費清單 (office).
 */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { HttpError, statusOf } from '../http-errors.js';
import { actorOf } from '../middleware/actor.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, date, fieldErrors, id, paramId } from '../validation.js';
import { classQuery, parseListQuery } from './list-kit.js';
import { ntdInWords } from '../domain/payments/amount-in-words.js';
import { recordPayments, receiptLabel } from '../domain/payments/payments.js';
import { classOrders, classRefunds, receiptOf, visibleClasses } from '../domain/payments/payment-queries.js';
import { ServiceInputError, TransitionError } from '../domain/subscriptions/subscription-service.js';

/** The class a page is about: the one asked for, else the user's first; a bad query: the list kit's message. */
async function chosenClass(
  req: Request,
): Promise<
  | { ok: true; classId: number | undefined; classes: Awaited<ReturnType<typeof visibleClasses>> }
  | { ok: false; message: string }
> {
  const parsed = parseListQuery(classQuery, req);
  if (!parsed.ok) return parsed;
  const classes = await visibleClasses(depsOf(req).db.knex, userOf(req));
  return { ok: true, classId: parsed.value.classId ?? classes[0]?.id, classes };
}

async function renderIndex(
  req: Request,
  res: Response,
  status: number,
  o: {
    classId: number | undefined;
    classes?: Awaited<ReturnType<typeof visibleClasses>>;
    error?: string;
    paidOn?: string;
    picked?: number[];
  },
): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const classes = o.classes ?? (await visibleClasses(db.knex, user));
  const data = o.classId !== undefined ? await classOrders(db.knex, user, o.classId) : undefined;
  res.status(status).render('payments/index', {
    title: '繳費管理',
    classes,
    cls: data?.cls,
    orders: data?.orders ?? [],
    today: clock.today(),
    paidOn: o.paidOn ?? clock.today(),
    picked: new Set(o.picked ?? []),
    error: o.error,
  });
}

/** GET /sms/payments — 繳費管理 of a class (school office). */
export async function index(req: Request, res: Response): Promise<void> {
  const chosen = await chosenClass(req);
  if (!chosen.ok) return renderIndex(req, res, 400, { classId: undefined, error: chosen.message });
  await renderIndex(req, res, 200, chosen);
}

const paymentForm = z.strictObject({
  ...csrfField,
  classId: id,
  paidOn: date,
  subscriptionIds: z.union([id, z.array(id).min(1).max(200)], { error: '請勾選要登錄繳費的訂購。' }),
});

/** POST /sms/payments — 登錄繳費 of one order or of the ticked orders of a class. */
export async function create(req: Request, res: Response, next: NextFunction): Promise<void> {
  const body = { ...(req.body as Record<string, unknown>) };
  const parsed = paymentForm.safeParse(body);
  const typedClass =
    typeof body.classId === 'string' && /^[1-9]\d{0,8}$/.test(body.classId) ? Number(body.classId) : undefined;
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    const message =
      errors._form ??
      (errors.paidOn ? `繳費日期有誤：${errors.paidOn}` : (errors.subscriptionIds ?? errors.classId ?? '格式有誤'));
    return renderIndex(req, res, 422, { classId: typedClass, error: message });
  }
  const v = parsed.data;
  const ids = Array.isArray(v.subscriptionIds) ? v.subscriptionIds : [v.subscriptionIds];
  const { db, clock } = depsOf(req);
  let recorded;
  try {
    recorded = await recordPayments(
      db.knex,
      clock,
      userOf(req),
      { subscriptionIds: ids, paidOn: v.paidOn },
      actorOf(req),
    );
  } catch (err) {
    if (err instanceof ServiceInputError || err instanceof TransitionError) {
      return renderIndex(req, res, statusOf(err), {
        classId: v.classId,
        error: err.message,
        paidOn: v.paidOn,
        picked: ids,
      });
    }
    return next(err);
  }
  const numbers = recorded.map((r) => receiptLabel(r.receiptNumber));
  const range = numbers.length === 1 ? numbers[0] : `${numbers[0]}～${numbers.at(-1)}`;
  setFlash(req, 'success', `已登錄繳費 ${recorded.length} 筆（繳費日期 ${v.paidOn}，收據號碼 ${range}）。`);
  res.redirect(303, `/sms/payments?classId=${v.classId}`);
}

/** GET /sms/payments/notices — a class's 繳費通知單, one per student with an approved order not yet paid (print). */
export async function notices(req: Request, res: Response): Promise<void> {
  const chosen = await chosenClass(req);
  if (!chosen.ok || chosen.classId === undefined) throw new HttpError(400, '請選擇班級。');
  const { db, clock } = depsOf(req);
  const { cls, orders } = await classOrders(db.knex, userOf(req), chosen.classId);
  res.render('payments/notices', {
    title: `繳費通知單 ${cls.name}`,
    cls,
    notices: orders.filter((o) => !o.payment && (o.status === 'active' || o.status === 'cancel_pending')),
    today: clock.today(),
    ntdInWords,
    back: userOf(req).role === 'school_admin' ? `/sms/payments?classId=${cls.id}` : '/sms/subscriptions',
  });
}

/** GET /sms/payments/:id/receipt — one payment's 收據 (print). */
export async function receipt(req: Request, res: Response): Promise<void> {
  const paymentId = paramId(req);
  const r = await receiptOf(depsOf(req).db.knex, userOf(req), paymentId);
  res.render('payments/receipt', {
    title: `收據 ${r.payment.receipt}`,
    r,
    ntdInWords,
    back: userOf(req).role === 'school_admin' ? '/sms/payments' : '/sms/subscriptions',
  });
}

/** GET /sms/refunds — a class's 退費清單 for the office (print). */
export async function refundList(req: Request, res: Response): Promise<void> {
  const chosen = await chosenClass(req);
  if (!chosen.ok || chosen.classId === undefined) throw new HttpError(400, '請選擇班級。');
  const { db, clock } = depsOf(req);
  const { cls, refunds } = await classRefunds(db.knex, userOf(req), chosen.classId);
  res.render('payments/refunds', {
    title: `退費清單 ${cls.name}`,
    cls,
    refunds,
    total: refunds.reduce((n, r) => n + r.refund_amount, 0),
    today: clock.today(),
    back: `/sms/payments?classId=${cls.id}`,
  });
}
