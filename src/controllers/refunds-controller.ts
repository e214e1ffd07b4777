/** 退費完成: a school admin marks an approved cancellation's refund as paid (audited). */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, date, fieldErrors, paramId } from '../validation.js';
import { actorOf } from '../middleware/actor.js';
import { ServiceInputError } from '../domain/subscriptions/subscription-service.js';
import { renderRefusal, serviceOf } from './subscriptions-controller.js';

const paymentForm = z.strictObject({ ...csrfField, paidOn: date });

/** POST /sms/refunds/:id/payment */
export async function markPaid(req: Request, res: Response, next: NextFunction): Promise<void> {
  const requestId = paramId(req);
  const parsed = paymentForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    setFlash(req, 'error', `退費日期有誤：${errors.paidOn ?? errors._form ?? '格式有誤'}`);
    return res.redirect(303, '/sms/cancellations?status=approved');
  }
  try {
    await serviceOf(req).markRefundPaid(userOf(req), requestId, parsed.data.paidOn, actorOf(req));
  } catch (err) {
    if (err instanceof ServiceInputError) {
      setFlash(req, 'error', err.message);
      return res.redirect(303, '/sms/cancellations?status=approved');
    }
    return renderRefusal(err, res, next, '/sms/cancellations?status=approved');
  }
  void depsOf(req);
  setFlash(req, 'success', `已標示退費完成（${parsed.data.paidOn}）。`);
  res.redirect(303, '/sms/cancellations?status=approved');
}
