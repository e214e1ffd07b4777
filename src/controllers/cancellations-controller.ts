/** 到離校簡訊註銷服務: the cancellation requests, 取消 (withdraw) of a pending one. */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { HttpError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField } from '../validation.js';
import {
  APPLICANT_OPTIONS,
  CANCELLATION_STATUS_OPTIONS,
  PAGE_SIZE,
  filterOptions,
  listCancellations,
} from '../domain/subscriptions/queries.js';
import { cancellationListQuery, pageHref, parseQuery } from './subscriptions-filters.js';
import { NOTICES, paramId, renderRefusal, serviceOf } from './subscriptions-controller.js';

/** GET /sms/cancellations — 到離校簡訊註銷服務 */
export async function list(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const parsed = parseQuery(cancellationListQuery, req);
  const options = await filterOptions(db.knex, user);
  const values: Partial<z.output<typeof cancellationListQuery>> = parsed.ok ? parsed.value : {};
  const result = parsed.ok
    ? await listCancellations(db.knex, user, parsed.value)
    : { rows: [], total: 0, page: 1, from: 0, to: 0, lastPage: 1 };
  const hrefValues = {
    schoolId: values.schoolId,
    classId: values.classId,
    name: values.name,
    studentNumber: values.studentNumber,
    seat: values.seat,
    status: values.status,
    applicant: values.applicant,
    periodId: values.periodId,
  } as Record<string, string | number | undefined>;
  res.status(parsed.ok ? 200 : 400).render('sms/cancellations', {
    title: '到離校簡訊註銷服務',
    values: hrefValues,
    queryError: parsed.ok ? undefined : parsed.message,
    notice: parsed.ok && parsed.value.notice ? NOTICES[parsed.value.notice] : undefined,
    options,
    statusOptions: CANCELLATION_STATUS_OPTIONS,
    applicantOptions: APPLICANT_OPTIONS,
    result,
    pageSize: PAGE_SIZE,
    pageLink: (n: number) => pageHref('/sms/cancellations', hrefValues, n),
    isParent: user.role === 'parent',
    isAdmin: user.role === 'school_admin',
    today: clock.today(),
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
