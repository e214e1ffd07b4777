/** 審核: pending orders and cancellations of the teacher's classes / the admin's school. */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { HttpError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, id, paramId, text } from '../validation.js';
import { itemsLabel, KIND_OPTIONS, REQUEST_KIND_LABELS } from '../domain/subscriptions/lifecycle.js';
import { filterOptions, listPendingReviews } from '../domain/subscriptions/queries.js';
import { reviewRequestOf } from '../domain/subscriptions/review-request.js';
import { ServiceInputError } from '../domain/subscriptions/subscription-service.js';
import { reviewListQuery } from './subscriptions-filters.js';
import { pageLinks, parseListQuery, readList } from './list-kit.js';
import { waitingClassesWithoutTeacher } from '../domain/subscriptions/review-reminders.js';
import { NO_TEACHER_WARNING } from '../domain/schools/class-teachers.js';
import { renderRefusal, serviceOf } from './subscriptions-controller.js';

/** GET /reviews */
export async function list(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const parsed = parseListQuery(reviewListQuery, req);
  const options = await filterOptions(db.knex, user);
  const values: Partial<z.output<typeof reviewListQuery>> = parsed.ok ? parsed.value : {};
  const answer = await readList(parsed, (value) => listPendingReviews(db.knex, user, value));
  const hrefValues = { classId: values.classId, kind: values.kind } as Record<string, string | number | undefined>;
  const noTeacherClasses = await waitingClassesWithoutTeacher(db.knex, user);
  res.status(answer.status).render('reviews/index', {
    title: '審核',
    values: hrefValues,
    queryError: answer.queryError,
    options,
    kindOptions: KIND_OPTIONS,
    result: answer.list,
    pageLink: pageLinks('/reviews', hrefValues),
    itemsLabel,
    noTeacherClasses,
    noTeacherIds: new Set(noTeacherClasses.map((c) => c.id)),
    noTeacherWarning: NO_TEACHER_WARNING,
  });
}

const bodyOnlyCsrf = z.strictObject({ ...csrfField });

/** POST /reviews/:id/approval */
export async function approve(req: Request, res: Response, next: NextFunction): Promise<void> {
  const requestId = paramId(req);
  if (!bodyOnlyCsrf.safeParse({ ...(req.body as Record<string, unknown>) }).success)
    throw new HttpError(422, '表單含有不允許的欄位，請回到頁面重新操作。');
  let r;
  try {
    r = await serviceOf(req).approve(userOf(req), requestId);
  } catch (err) {
    return renderRefusal(err, res, next, '/reviews');
  }
  setFlash(req, 'success', `${REQUEST_KIND_LABELS[r.kind]}已核准，${r.effectiveOn} 生效。`);
  res.redirect(303, '/reviews');
}

const loadPending = (req: Request, requestId: number) => reviewRequestOf(depsOf(req).db.knex, userOf(req), requestId);

/** GET /reviews/:id/rejection/new — 退回 asks for the reason. */
export async function rejectForm(req: Request, res: Response): Promise<void> {
  const request = await loadPending(req, paramId(req));
  res.render('reviews/reject', { title: '退回申請', request, values: { reason: '' }, errors: {}, itemsLabel });
}

const rejectSchema = z.strictObject({ ...csrfField, reason: text(200, { min: 1, multiline: true }) });

/** POST /reviews/:id/rejection */
export async function reject(req: Request, res: Response, next: NextFunction): Promise<void> {
  const requestId = paramId(req);
  const parsed = rejectSchema.safeParse({ ...(req.body as Record<string, unknown>) });
  const body = req.body as Record<string, unknown>;
  const typed = typeof body.reason === 'string' ? body.reason.slice(0, 800) : '';
  if (!parsed.success) {
    const request = await loadPending(req, requestId);
    const errors = fieldErrors(parsed.error);
    if (errors.reason === '此欄位必填') errors.reason = '退回時請填寫原因。';
    return res
      .status(422)
      .render('reviews/reject', { title: '退回申請', request, values: { reason: typed }, errors, itemsLabel });
  }
  let r;
  try {
    r = await serviceOf(req).reject(userOf(req), requestId, parsed.data.reason);
  } catch (err) {
    if (err instanceof ServiceInputError) {
      const request = await loadPending(req, requestId);
      return res.status(422).render('reviews/reject', {
        title: '退回申請',
        request,
        values: { reason: typed },
        errors: { reason: err.message },
        itemsLabel,
      });
    }
    return renderRefusal(err, res, next, '/reviews');
  }
  setFlash(req, 'success', `${REQUEST_KIND_LABELS[r.kind]}已退回。`);
  res.redirect(303, '/reviews');
}

const batchSchema = z.strictObject({
  ...csrfField,
  ids: z.union([id, z.array(id).min(1).max(200)], { error: '請勾選要核准的申請' }),
});

/** POST /reviews/batch-approval — 批次核准 of the ticked requests. */
export async function batchApprove(req: Request, res: Response): Promise<void> {
  const parsed = batchSchema.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    setFlash(req, 'error', errors._form ?? '請勾選要核准的申請。');
    return res.redirect(303, '/reviews');
  }
  const ids = Array.isArray(parsed.data.ids) ? parsed.data.ids : [parsed.data.ids];
  const r = await serviceOf(req).batchApprove(userOf(req), ids);
  // The real date of each group: an order for a period still to come takes effect on its first day.
  const dates = r.byDate.map((g) => `${REQUEST_KIND_LABELS[g.kind]} ${g.count} 件，${g.effectiveOn} 生效`).join('；');
  setFlash(
    req,
    r.skipped > 0 ? 'error' : 'success',
    `批次核准：已核准 ${r.approved} 件${dates ? `（${dates}）` : ''}${r.skipped > 0 ? `；${r.skipped} 件已處理或無法核准，未變更` : ''}。`,
  );
  res.redirect(303, '/reviews');
}
