/** GET /sms/log — 簡訊發送紀錄 for staff: every SMS of their scope, numbers masked. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { visibleClassIds } from '../domain/scope.js';
import { listSmsLog, LOG_PAGE_SIZE } from '../domain/sms/sms-log.js';
import { SMS_KIND_LABELS, SMS_STATUS_LABELS } from '../domain/sms/sms-words.js';
import { date, optionalId, page } from '../validation.js';
import { maskPhone } from '../views-helpers.js';

const statusField = z
  .union([z.literal(''), z.enum(['queued', 'sending', 'sent', 'delivered', 'failed'], { error: '狀態有誤' })])
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const querySchema = z.strictObject({
  date: z.union([z.literal(''), date]).optional(),
  classId: optionalId,
  status: statusField,
  page,
});

export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const knex = db.knex;
  const parsed = querySchema.safeParse({ ...(req.query as Record<string, unknown>) });
  const classes: { id: number; name: string }[] = await knex('classes as c')
    .whereIn('c.id', visibleClassIds(knex, user))
    .orderBy(['c.school_year', 'c.code'])
    .select('c.id', 'c.name');
  const values = {
    date: (parsed.success && parsed.data.date) || clock.today(),
    classId: parsed.success ? parsed.data.classId : undefined,
    status: parsed.success ? parsed.data.status : undefined,
  };
  const result = parsed.success
    ? await listSmsLog(knex, user, { ...values, page: parsed.data.page ?? 1 })
    : { rows: [], total: 0, page: 1, from: 0, to: 0, lastPage: 1, counts: {} as Record<string, number> };
  const pageLink = (n: number) => {
    const p = new URLSearchParams({ date: values.date });
    if (values.classId !== undefined) p.set('classId', String(values.classId));
    if (values.status !== undefined) p.set('status', values.status);
    if (n > 1) p.set('page', String(n));
    return `/sms/log?${p.toString()}`;
  };
  res.status(parsed.success ? 200 : 400).render('sms/log', {
    title: '簡訊發送紀錄',
    values,
    queryError: parsed.success ? undefined : '查詢條件有誤，請重新選擇。',
    classes,
    statusLabels: SMS_STATUS_LABELS,
    kindLabels: SMS_KIND_LABELS,
    // Masked before the template: whole numbers never reach a staff page.
    rows: result.rows.map((r) => ({ ...r, phone: maskPhone(r.phone) })),
    counts: result.counts,
    result,
    pageSize: LOG_PAGE_SIZE,
    pageLink,
    provider: depsOf(req).config.sms.provider,
  });
}
