/**
 * 到離校簡訊服務 (landing), 到離校簡訊訂購服務 (the order list), 新增申請, 註銷 (confirm page + POST) and a
 * subscription's history. Writes go through SubscriptionService; reads carry the user's scope in SQL.
 */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { HttpError, NotFoundError, statusOf } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, id, paramId } from '../validation.js';
import {
  REQUEST_KIND_LABELS,
  REQUEST_STATUS_LABELS,
  SUBSCRIPTION_STATUS_LABELS,
  approvalEffectiveDate,
  approvalLabel,
  effectiveDateFor,
  itemsLabel,
  ITEM_LABELS,
  transitionLabel,
  APPLICANT_OPTIONS,
  ORDER_STATUS_OPTIONS,
} from '../domain/subscriptions/lifecycle.js';
import { itemsKey, quoteOrder, type Quote } from '../domain/subscriptions/fees.js';
import { moneyOfSubscriptions, refundDaysOf, withMoney } from '../domain/payments/payment-queries.js';
import { filterOptions, listSubscriptions, subscriptionHistory } from '../domain/subscriptions/queries.js';
import type { Page } from '../domain/paging.js';
import { pageLinks, parseListQuery, readList, type ParsedQuery } from './list-kit.js';
import {
  ServiceInputError,
  SubscriptionService,
  TransitionError,
  orderablePeriods,
} from '../domain/subscriptions/subscription-service.js';
import { orderListQuery } from './subscriptions-filters.js';
import { studentsWithoutVerifiedPhone } from '../domain/phones/phone-service.js';

export const NOTICES = {
  'pending-review': {
    title: '註銷審核中!',
    text: '簡訊訂購申請/註銷申請需經過學校老師審核，審核後隔日生效，請提醒學校老師審核，以確保訂購申請/註銷申請生效',
  },
  'order-pending': {
    title: '訂購審核中!',
    text: '簡訊訂購申請/註銷申請需經過學校老師審核，審核後隔日生效，請提醒學校老師審核，以確保訂購申請/註銷申請生效',
  },
  // An order for a period that has not started: it takes effect on the period's first day, not the next day.
  'order-pending-next': {
    title: '訂購審核中!',
    text: '簡訊訂購申請需經過學校老師審核，此簡訊服務期間尚未開始，核准後於該期第一天生效，請提醒學校老師審核，以確保訂購申請生效',
  },
} as const;

export function serviceOf(req: Request): SubscriptionService {
  const { db, clock } = depsOf(req);
  return new SubscriptionService(db.knex, clock, { logger: req.log });
}

/** A refused transition (409/403) shows its message with a way back; anything else goes to the error page. */
export function renderRefusal(err: unknown, res: Response, next: NextFunction, back: string): void {
  if (err instanceof TransitionError) {
    res.status(statusOf(err)).render('sms/refused', { title: '無法處理此申請', message: err.message, back });
    return;
  }
  next(err);
}

/** GET /sms — 到離校簡訊服務 */
export function landing(req: Request, res: Response): void {
  res.render('sms/index', { title: '到離校簡訊服務', isStaff: userOf(req).role !== 'parent' });
}

const FILTER_KEYS = ['schoolId', 'classId', 'name', 'studentNumber', 'seat', 'status', 'applicant'] as const;

/**
 * What both SMS lists (訂購服務, 註銷服務) render besides their rows: the validated filters (which the paging
 * links carry on), the notice after a redirect, and the list kit's page and bad-query answer.
 */
export async function renderSmsList<V extends { notice?: keyof typeof NOTICES | undefined }, P extends Page<unknown>>(
  req: Request,
  res: Response,
  o: {
    view: string;
    title: string;
    path: string;
    parsed: ParsedQuery<V>;
    extraKeys?: readonly string[];
    load: (value: V) => Promise<P>;
    locals: Record<string, unknown>;
  },
): Promise<void> {
  const user = userOf(req);
  const values: Record<string, unknown> = o.parsed.ok ? { ...o.parsed.value } : {};
  const hrefValues = Object.fromEntries(
    [...FILTER_KEYS, ...(o.extraKeys ?? [])].map((k) => [k, values[k] as string | number | undefined]),
  );
  const [options, answer] = await Promise.all([filterOptions(depsOf(req).db.knex, user), readList(o.parsed, o.load)]);
  res.status(answer.status).render(o.view, {
    title: o.title,
    values: hrefValues,
    queryError: answer.queryError,
    notice: o.parsed.ok && o.parsed.value.notice ? NOTICES[o.parsed.value.notice] : undefined,
    options,
    applicantOptions: APPLICANT_OPTIONS,
    result: answer.list,
    pageLink: pageLinks(o.path, hrefValues),
    isParent: user.role === 'parent',
    ...o.locals,
  });
}

/** GET /sms/subscriptions — 到離校簡訊訂購服務 */
export async function list(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const parsed = parseListQuery(orderListQuery, req);
  await renderSmsList(req, res, {
    view: 'sms/subscriptions',
    title: '到離校簡訊訂購服務',
    path: '/sms/subscriptions',
    parsed,
    load: async (value) => withMoney(db.knex, await listSubscriptions(db.knex, user, value, clock.today())),
    locals: { statusOptions: ORDER_STATUS_OPTIONS, itemsLabel },
  });
}

const orderForm = z.strictObject({
  ...csrfField,
  studentId: id,
  periodId: z.union([z.literal(''), id], { error: '請選擇簡訊服務' }).optional(),
  arrival: z.literal('1', { error: '格式有誤' }).optional(),
  departure: z.literal('1', { error: '格式有誤' }).optional(),
  intent: z.enum(['preview', 'submit'], { error: '格式有誤' }).optional(),
});

async function orderChoices(req: Request) {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const today = clock.today();
  const bySchool = new Map<number, Awaited<ReturnType<typeof orderablePeriods>>>();
  for (const schoolId of new Set(user.children.map((c) => c.schoolId)))
    bySchool.set(schoolId, await orderablePeriods(db.knex, schoolId, today));
  const periods = [];
  for (const [schoolId, ps] of bySchool.entries())
    for (const p of ps)
      periods.push({
        ...p,
        schoolName: user.children.find((c) => c.schoolId === schoolId)?.schoolName ?? '',
        quotes: await quoteOrder(db.knex, p, today),
      });
  // Warn before ordering for a child whose SMS could not arrive: no verified phone yet.
  const unverified = await studentsWithoutVerifiedPhone(
    db.knex,
    user,
    user.children.map((c) => c.id),
  );
  return {
    students: user.children,
    periods,
    multiSchool: bySchool.size > 1,
    withoutPhone: user.children.filter((c) => unverified.has(c.id)),
  };
}

function renderOrderForm(
  req: Request,
  res: Response,
  status: number,
  choices: Awaited<ReturnType<typeof orderChoices>>,
  values: { studentId?: number | undefined; periodId?: number | undefined; arrival: boolean; departure: boolean },
  errors: Record<string, string>,
  preview?: {
    fee: number;
    studentName: string;
    periodName: string;
    items: string;
    quote: Quote;
    effectiveOn: string;
    endsOn: string;
    firstDay: string | undefined;
  },
): void {
  res.status(status).render('sms/new', {
    title: '新增申請',
    choices,
    values,
    errors,
    preview,
    ITEM_LABELS,
  });
}

/** GET /sms/subscriptions/new — 新增申請 (parents) */
export async function newForm(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const choices = await orderChoices(req);
  const current = choices.periods.find((p) => p.school_id === user.currentChild?.schoolId) ?? choices.periods[0];
  renderOrderForm(
    req,
    res,
    200,
    choices,
    { studentId: user.currentChild?.id, periodId: current?.id, arrival: true, departure: true },
    {},
  );
}

/** POST /sms/subscriptions — 新增申請: preview the fee, or submit the order. */
export async function create(req: Request, res: Response, next: NextFunction): Promise<void> {
  const user = userOf(req);
  const choices = await orderChoices(req);
  const parsed = orderForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) {
    const body = req.body as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
    return renderOrderForm(
      req,
      res,
      422,
      choices,
      {
        studentId: num(body.studentId),
        periodId: num(body.periodId),
        arrival: body.arrival === '1',
        departure: body.departure === '1',
      },
      fieldErrors(parsed.error),
    );
  }
  const v = parsed.data;
  const values = {
    studentId: v.studentId,
    periodId: v.periodId === '' ? undefined : v.periodId,
    arrival: v.arrival === '1',
    departure: v.departure === '1',
  };
  const student = choices.students.find((s) => s.id === v.studentId);
  const period = choices.periods.find((p) => p.id === values.periodId && student && p.school_id === student.schoolId);
  const errors: Record<string, string> = {};
  if (!student) errors.studentId = '請選擇學生';
  if (!period) errors.periodId = '請選擇此學生學校目前或下一期的簡訊服務';
  if (!values.arrival && !values.departure) errors.items = '請至少選擇一個申請項目（到校SMS 或 離校SMS）';
  if (Object.keys(errors).length > 0 || !student || !period)
    return renderOrderForm(req, res, 422, choices, values, errors);
  const quote = period.quotes.byItems[itemsKey(values)];
  const fee = quote.amount;
  const items = itemsLabel(values);
  // A period that has not started: approved any day before it, the order takes effect on its first day.
  const today = depsOf(req).clock.today();
  const firstDay =
    approvalEffectiveDate('order', today, period) !== effectiveDateFor(today) ? period.starts_on : undefined;
  if (v.intent !== 'submit') {
    const preview = {
      fee,
      studentName: student.name,
      periodName: period.name,
      items,
      quote,
      effectiveOn: period.quotes.effectiveOn,
      endsOn: period.ends_on,
      firstDay,
    };
    return renderOrderForm(req, res, 200, choices, values, {}, preview);
  }
  try {
    await serviceOf(req).order(user, {
      studentId: student.id,
      periodId: period.id,
      arrival: values.arrival,
      departure: values.departure,
    });
  } catch (err) {
    if (err instanceof ServiceInputError)
      return renderOrderForm(req, res, 422, choices, values, { [err.field]: err.message });
    if (err instanceof TransitionError)
      return renderOrderForm(req, res, statusOf(err), choices, values, { _form: err.message });
    return next(err);
  }
  setFlash(
    req,
    'success',
    `已送出新增申請：${student.name} ${period.name} ${items}，費用合計 NT$${fee.toLocaleString('en-US')}。${firstDay ? `核准後於 ${firstDay} 生效。` : ''}`,
  );
  res.redirect(303, `/sms/subscriptions?notice=${firstDay ? 'order-pending-next' : 'order-pending'}`);
}

/** GET /sms/subscriptions/:id/cancellation/new — 註銷 asks first (works without JavaScript). */
export async function cancelConfirm(req: Request, res: Response): Promise<void> {
  const subscriptionId = paramId(req);
  const { db, clock } = depsOf(req);
  const h = await subscriptionHistory(db.knex, userOf(req), subscriptionId, clock.today());
  if (!h) throw new NotFoundError();
  const cancellable = h.sub.status === 'active' && h.sub.display.key !== 'expired';
  res.render('sms/cancel-confirm', { title: '註銷確認', sub: h.sub, cancellable, itemsLabel });
}

/** POST /sms/subscriptions/:id/cancellation — 註銷 → the guide's notice. */
export async function cancel(req: Request, res: Response, next: NextFunction): Promise<void> {
  const subscriptionId = paramId(req);
  const parsed = z.strictObject({ ...csrfField }).safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) throw new HttpError(422, '表單含有不允許的欄位，請回到頁面重新操作。');
  try {
    await serviceOf(req).cancel(userOf(req), subscriptionId);
  } catch (err) {
    return renderRefusal(err, res, next, '/sms/subscriptions');
  }
  res.redirect(303, '/sms/cancellations?notice=pending-review');
}

const EVENT_LABELS: Record<string, string> = {
  order: '新增申請',
  approve: '核准',
  reject: '退回',
  cancel: '註銷',
  withdraw: '取消',
};

/** GET /sms/subscriptions/:id/history — every request and transition of one subscription. */
export async function history(req: Request, res: Response): Promise<void> {
  const subscriptionId = paramId(req);
  const { db, clock } = depsOf(req);
  const h = await subscriptionHistory(db.knex, userOf(req), subscriptionId, clock.today());
  if (!h) throw new NotFoundError();
  const money = (await moneyOfSubscriptions(db.knex, [h.sub.id])).get(h.sub.id);
  const refundDays = await refundDaysOf(
    db.knex,
    h.requests.map((r: { id: number }) => r.id),
  );
  res.render('sms/history', {
    title: '申請紀錄',
    sub: h.sub,
    money,
    refundDays,
    requests: h.requests,
    events: h.events,
    itemsLabel,
    EVENT_LABELS,
    SUBSCRIPTION_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    REQUEST_KIND_LABELS,
    transitionLabel,
    approvalLabel,
  });
}
