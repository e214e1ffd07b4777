/**
 * 簡訊發送紀錄 for staff: GET /sms/log lists every SMS of their scope (numbers masked, failures in words);
 * the school office resends failed ones: POST /sms/log/:id/resend (one) and POST /sms/log/resend (a day's).
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { myClasses } from '../domain/scope.js';
import { listSmsLog, type SmsLogRow } from '../domain/sms/sms-log.js';
import { emptyPage } from '../domain/paging.js';
import { listQuery, pageLinks, parseListQuery, readList } from './list-kit.js';
import { SMS_KIND_LABELS, SMS_STATUS_LABELS } from '../domain/sms/sms-words.js';
import { resendDay as resendDayOf, resendOne, ResendRefused } from '../domain/sms/sms-resend.js';
import { showsVerificationCodes } from '../domain/sms/providers/index.js';
import { failureWords } from '../domain/sms/sms-words.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, date, fieldErrors, optionalId, paramId } from '../validation.js';
import { maskPhone } from '../views-helpers.js';
import { actorOf } from '../middleware/actor.js';

const statusField = z
  .union([z.literal(''), z.enum(['queued', 'sending', 'sent', 'delivered', 'failed'], { error: '狀態有誤' })])
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const querySchema = listQuery({
  date: z.union([z.literal(''), date]).optional(),
  classId: optionalId,
  status: statusField,
});

export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const knex = db.knex;
  const parsed = parseListQuery(querySchema, req);
  const classes = await myClasses(knex, user);
  const values = {
    date: (parsed.ok && parsed.value.date) || clock.today(),
    classId: parsed.ok ? parsed.value.classId : undefined,
    status: parsed.ok ? parsed.value.status : undefined,
  };
  const answer = await readList(
    parsed,
    (q) =>
      listSmsLog(knex, user, { ...values, page: q.page }, { showCodes: showsVerificationCodes(depsOf(req).config) }),
    () => ({ ...emptyPage<SmsLogRow>(), counts: {} }),
  );
  const result = answer.list;
  res.status(answer.status).render('sms/log', {
    title: '簡訊發送紀錄',
    values,
    queryError: answer.queryError,
    classes,
    statusLabels: SMS_STATUS_LABELS,
    kindLabels: SMS_KIND_LABELS,
    // Masked before the template: whole numbers never reach a staff page.
    rows: result.rows.map((r) => ({
      ...r,
      phone: maskPhone(r.phone),
      failureWords: r.failureCode || r.status === 'failed' ? failureWords(r.failureCode) : null,
    })),
    canResend: user.role === 'school_admin',
    showsCodes: showsVerificationCodes(depsOf(req).config),
    counts: result.counts,
    result,
    pageLink: pageLinks('/sms/log', values),
    provider: depsOf(req).config.sms.provider,
  });
}

const resendForm = z.strictObject({ ...csrfField, date });

function back(day: string | undefined): string {
  return day ? `/sms/log?${new URLSearchParams({ date: day, status: 'failed' }).toString()}` : '/sms/log';
}

/** POST /sms/log/:id/resend — one failed message, again (school office only). */
export async function resend(req: Request, res: Response): Promise<void> {
  const id = paramId(req);
  const parsed = resendForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) {
    setFlash(req, 'error', `無法重新發送：${fieldErrors(parsed.error).date ?? '表單內容有誤'}`);
    return res.redirect(303, '/sms/log');
  }
  const { db, clock } = depsOf(req);
  try {
    await resendOne(db.knex, userOf(req), id, clock.now(), actorOf(req));
  } catch (err) {
    if (!(err instanceof ResendRefused)) throw err;
    setFlash(req, 'error', err.message);
    return res.redirect(303, back(parsed.data.date));
  }
  req.log.info({ outboxId: id }, 'sms resend');
  setFlash(req, 'success', '已重新排入發送：1 則簡訊，稍後會自動送出。');
  res.redirect(303, back(parsed.data.date));
}

/** POST /sms/log/resend — every failed message of a day of the school, again (school office only). */
export async function resendDay(req: Request, res: Response): Promise<void> {
  const parsed = resendForm.safeParse({ ...(req.body as Record<string, unknown>) });
  if (!parsed.success) {
    setFlash(req, 'error', `無法重新發送：${fieldErrors(parsed.error).date ?? '表單內容有誤'}`);
    return res.redirect(303, '/sms/log');
  }
  const { db, clock } = depsOf(req);
  let count: number;
  try {
    count = await resendDayOf(db.knex, userOf(req), parsed.data.date, clock.now(), actorOf(req));
  } catch (err) {
    if (!(err instanceof ResendRefused)) throw err;
    setFlash(req, 'error', err.message);
    return res.redirect(303, back(parsed.data.date));
  }
  req.log.info({ date: parsed.data.date, count }, 'sms resend of a day');
  setFlash(req, 'success', `已將 ${parsed.data.date} 的 ${count} 則失敗簡訊重新排入發送，稍後會自動送出。`);
  res.redirect(303, back(parsed.data.date));
}
