/**
 * 未對應刷卡 (school admin): swipes of unknown or retired cards, kept until the school assigns each to a
 * student (by 學號) or marks it ignored. Resolving sends no SMS.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { audit } from '../domain/audit.js';
import { listUnmatched, resolveUnmatched } from '../domain/swipes/unmatched.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, id, page, text } from '../validation.js';

const ListQuery = z.strictObject({ page });
const ResolutionForm = z.discriminatedUnion('action', [
  z.strictObject({
    ...csrfField,
    action: z.literal('assign'),
    studentNumber: text(16, { min: 1 }).pipe(z.string().regex(/^[0-9A-Za-z]{1,16}$/, '學號格式有誤')),
  }),
  z.strictObject({ ...csrfField, action: z.literal('ignore'), studentNumber: z.string().max(64).optional() }),
], { error: '請選擇處理方式' });

async function render(
  req: Request,
  res: Response,
  o: { status?: number; errorFor?: number; error?: string; value?: string } = {},
): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const q = ListQuery.safeParse({ ...req.query });
  const current = q.success ? (q.data.page ?? 1) : 1;
  const list = await listUnmatched(db.knex, user, current);
  const pages = Math.max(1, Math.ceil(list.total / list.pageSize));
  res.status(o.status ?? 200).render('swipes/unmatched', {
    title: '未對應刷卡',
    rows: list.rows,
    total: list.total,
    page: current,
    pages,
    errorFor: o.errorFor,
    error: o.error,
    value: o.value ?? '',
  });
}

/** GET /swipes/unmatched */
export async function unmatched(req: Request, res: Response): Promise<void> {
  await render(req, res);
}

/** POST /swipes/:id/resolution — action=assign (with studentNumber) or action=ignore. */
export async function resolve(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const swipeId = id.safeParse(req.params.id);
  if (!swipeId.success) throw new NotFoundError();
  const parsed = ResolutionForm.safeParse(req.body ?? {});
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    const raw = (req.body as Record<string, unknown> | undefined)?.studentNumber;
    return render(req, res, {
      status: 422,
      errorFor: swipeId.data,
      error: errors.studentNumber ?? errors.action ?? errors._form ?? '輸入的資料有誤',
      value: typeof raw === 'string' ? raw.slice(0, 32) : '',
    });
  }
  const form = parsed.data;
  const result = await resolveUnmatched(
    db.knex,
    user,
    swipeId.data,
    form.action === 'assign' ? { kind: 'assign', studentNumber: form.studentNumber } : { kind: 'ignore' },
    clock.now(),
  );
  if (result.outcome === 'not_found') {
    req.log.warn({ swipeId: swipeId.data }, 'scope refusal or already resolved: swipe');
    throw new NotFoundError();
  }
  if (result.outcome === 'no_such_student') {
    return render(req, res, {
      status: 422,
      errorFor: swipeId.data,
      error: '本校沒有這個學號的學生',
      value: form.action === 'assign' ? form.studentNumber : '',
    });
  }
  await audit(db.knex, req, {
    action: result.outcome === 'assigned' ? 'swipe.assign' : 'swipe.ignore',
    targetType: 'swipe',
    targetId: swipeId.data,
    details: result.studentId ? { studentId: result.studentId } : {},
  });
  setFlash(req, 'success', result.outcome === 'assigned' ? '已將刷卡紀錄指定給學生' : '已將刷卡紀錄標示為忽略');
  res.redirect(303, '/swipes/unmatched');
}
