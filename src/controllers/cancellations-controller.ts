/** 到離校簡訊註銷服務: the cancellation requests, 取消 (withdraw) of a pending one. */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { HttpError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, paramId } from '../validation.js';
import { listCancellations } from '../domain/subscriptions/queries.js';
import { CANCELLATION_STATUS_OPTIONS } from '../domain/subscriptions/lifecycle.js';
import { cancellationListQuery } from './subscriptions-filters.js';
import { parseListQuery } from './list-kit.js';
import { renderRefusal, renderSmsList, serviceOf } from './subscriptions-controller.js';
import { refundDaysOf, withMoney } from '../domain/payments/payment-queries.js';

/** GET /sms/cancellations — 到離校簡訊註銷服務 */
export async function list(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const parsed = parseListQuery(cancellationListQuery, req);
  await renderSmsList(req, res, {
    view: 'sms/cancellations',
    title: '到離校簡訊註銷服務',
    path: '/sms/cancellations',
    parsed,
    extraKeys: ['periodId'],
    load: async (value) => {
      const page = await withMoney(db.knex, await listCancellations(db.knex, user, value));
      const days = await refundDaysOf(
        db.knex,
        page.rows.map((r) => r.request_id),
      );
      return { ...page, rows: page.rows.map((r) => ({ ...r, refundDays: days.get(r.request_id) })) };
    },
    locals: { statusOptions: CANCELLATION_STATUS_OPTIONS, isAdmin: user.role === 'school_admin', today: clock.today() },
  });
}

/** POST /sms/cancellations/:id/withdrawal (and /sms/requests/:id/withdrawal) — 取消 a pending request. */
export async function withdraw(req: Request, res: Response, next: NextFunction): Promise<void> {
  const requestId = paramId(req);
  const parsed = z.strictObject({ ...csrfField }).safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) throw new HttpError(422, '表單含有不允許的欄位，請回到頁面重新操作。');
  let result;
  try {
    result = await serviceOf(req).withdraw(userOf(req), requestId);
  } catch (err) {
    return renderRefusal(err, res, next, '/sms/cancellations');
  }
  if (result.kind === 'cancellation') {
    setFlash(req, 'success', '已取消註銷申請，簡訊服務維持生效。');
    res.redirect(303, '/sms/cancellations');
  } else {
    setFlash(req, 'success', '已取消新增申請。');
    res.redirect(303, '/sms/subscriptions');
  }
}
