/** 首頁's decision notices: a parent dismisses one (知道了) or all shown (全部知道了). POST → redirect to 首頁. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { HttpError, NotFoundError } from '../http-errors.js';
import { csrfField, id, paramId } from '../validation.js';
import { actorOf } from '../middleware/actor.js';
import { dismissDecisionNotices } from '../domain/subscriptions/decision-notices.js';

const bodyOnlyCsrf = z.strictObject({ ...csrfField });
const dismissAll = z.strictObject({ ...csrfField, upTo: id });

/** POST /sms/decision-notices/:id/dismissal — 知道了 (one notice). */
export async function dismiss(req: Request, res: Response): Promise<void> {
  const noticeId = paramId(req);
  if (!bodyOnlyCsrf.safeParse({ ...(req.body as Record<string, unknown>) }).success)
    throw new HttpError(422, '表單含有不允許的欄位，請回到頁面重新操作。');
  const { db, clock } = depsOf(req);
  const r = await dismissDecisionNotices(db.knex, userOf(req), { noticeId }, clock.now(), actorOf(req));
  if (r === 'not_found') throw new NotFoundError();
  res.redirect(303, '/');
}

/** POST /sms/decision-notices/dismissal — 全部知道了 (the notices the page showed, up to `upTo`). */
export async function dismissAllShown(req: Request, res: Response): Promise<void> {
  const parsed = dismissAll.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) throw new HttpError(422, '表單含有不允許的欄位，請回到頁面重新操作。');
  const { db, clock } = depsOf(req);
  await dismissDecisionNotices(db.knex, userOf(req), { upToId: parsed.data.upTo }, clock.now(), actorOf(req));
  res.redirect(303, '/');
}
