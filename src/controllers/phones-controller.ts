/**
 * 到離校簡訊註冊服務 (/sms/phones): a parent registers, verifies and removes the numbers that receive the
 * SMS for each child; staff see their students' numbers masked.
 */
import type { Request, Response } from 'express';
import { classQuery, parseListQuery } from './list-kit.js';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import type { CurrentUser } from '../domain/accounts/current-user.js';
import { actorOf } from '../middleware/actor.js';
import {
  addPhone,
  classPhones,
  MAX_PHONES_PER_STUDENT,
  phonesByStudent,
  removePhone,
  resendCode,
  verifyPhone,
  type PhoneContext,
  type PhoneRow,
} from '../domain/phones/phone-service.js';
import { HttpError, NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, id, paramId } from '../validation.js';
import { formatPhone } from '../views-helpers.js';

const TITLE = '到離校簡訊註冊服務';

function context(req: Request): PhoneContext {
  const { db, clock, config } = depsOf(req);
  return { knex: db.knex, user: userOf(req), now: clock.now(), secret: config.sessionSecret, actor: actorOf(req) };
}

const body = (req: Request) => ({ ...((req.body ?? {}) as Record<string, unknown>) });

/** The parent's page: each child with its numbers and the forms. `errors` keys: `add-<studentId>`, `phone-<id>`. */
async function renderParent(
  req: Request,
  res: Response,
  status = 200,
  errors: Record<string, string> = {},
  values: Record<string, string> = {},
): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const phones = await phonesByStudent(
    db.knex,
    user,
    user.children.map((c) => c.id),
  );
  const now = clock.now().getTime();
  const children = user.children.map((c) => ({
    id: c.id,
    name: c.name,
    schoolName: c.schoolName,
    className: c.className,
    full: (phones.get(c.id) ?? []).length >= MAX_PHONES_PER_STUDENT,
    phones: (phones.get(c.id) ?? []).map((p: PhoneRow) => ({
      id: p.id,
      shown: formatPhone(p.number),
      verified: p.verified,
      codeLive: !p.verified && p.codeExpiresAt !== null && p.codeExpiresAt.getTime() > now && p.codeAttempts < 5,
    })),
  }));
  res.status(status).render('sms/phones', { title: TITLE, children, errors, values, max: MAX_PHONES_PER_STUDENT });
}

/** Staff: the students of a class (of their scope) with their numbers masked. */
async function renderStaff(req: Request, res: Response, user: CurrentUser): Promise<void> {
  // A bad query (?classId=x, two classIds, an unknown key): the list kit's answer, 400 with its message and no rows.
  const q = parseListQuery(classQuery, req);
  const { classes, classId, rows } = await classPhones(depsOf(req).db.knex, user, q.ok ? q.value.classId : undefined);
  res.status(q.ok ? 200 : 400).render('sms/phones-staff', {
    title: TITLE,
    classes,
    classId: q.ok ? classId : undefined,
    rows: q.ok ? rows : [],
    queryError: q.ok ? undefined : q.message,
  });
}

/** GET /sms/phones */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  if (user.role === 'parent') return renderParent(req, res);
  return renderStaff(req, res, user);
}

const addSchema = z.strictObject({ ...csrfField, studentId: id, number: z.string().max(100) });

/** POST /sms/phones — 新增 a number for a child; the code goes out by SMS. */
export async function create(req: Request, res: Response): Promise<void> {
  const parsed = addSchema.safeParse(body(req));
  if (!parsed.success) {
    const sid =
      typeof req.body?.studentId === 'string' && /^\d{1,9}$/.test(req.body.studentId) ? req.body.studentId : '';
    if (!sid) throw new HttpError(422, '表單內容有誤，請回到頁面重新操作。');
    return renderParent(req, res, 422, { [`add-${sid}`]: '請輸入台灣手機號碼，例如 0912-345-678' });
  }
  const { studentId, number } = parsed.data;
  const c = context(req);
  const result = await addPhone(c, studentId, number);
  if (!result) throw new NotFoundError();
  if (!result.ok) {
    const status = result.error.kind === 'wait' ? 429 : 422;
    return renderParent(
      req,
      res,
      status,
      { [`add-${studentId}`]: result.error.message },
      { [`add-${studentId}`]: number.slice(0, 40) },
    );
  }
  req.log.info({ phoneId: result.value.id, studentId }, 'phone registered; verification code queued');
  setFlash(
    req,
    'success',
    `已新增 ${formatPhone(result.value.number)}，驗證碼已用簡訊傳送到這支手機，請在 10 分鐘內輸入驗證碼完成驗證。`,
  );
  res.redirect(303, '/sms/phones');
}

const verifySchema = z.strictObject({ ...csrfField, code: z.string().max(40) });

/** POST /sms/phones/:id/verification — check the 6-digit code. */
export async function verify(req: Request, res: Response): Promise<void> {
  const pid = paramId(req);
  const parsed = verifySchema.safeParse(body(req));
  const c = context(req);
  const result = await verifyPhone(c, pid, parsed.success ? parsed.data.code : '');
  if (!result) throw new NotFoundError();
  if (!result.ok) {
    if (result.error.kind === 'verified') {
      setFlash(req, 'success', result.error.message);
      return res.redirect(303, '/sms/phones');
    }
    req.log.info({ phoneId: pid, reason: result.error.kind }, 'phone verification refused');
    return renderParent(req, res, 422, { [`phone-${pid}`]: result.error.message });
  }
  setFlash(req, 'success', `${formatPhone(result.value.number)} 已完成驗證，之後會收到到離校簡訊。`);
  res.redirect(303, '/sms/phones');
}

const emptySchema = z.strictObject({ ...csrfField });

/** POST /sms/phones/:id/code — 重新傳送驗證碼 (once a minute). */
export async function resend(req: Request, res: Response): Promise<void> {
  const pid = paramId(req);
  if (!emptySchema.safeParse(body(req)).success) throw new HttpError(422, '表單內容有誤，請回到頁面重新操作。');
  const c = context(req);
  const result = await resendCode(c, pid);
  if (!result) throw new NotFoundError();
  if (!result.ok) {
    if (result.error.kind === 'verified') {
      setFlash(req, 'success', result.error.message);
      return res.redirect(303, '/sms/phones');
    }
    return renderParent(req, res, 429, { [`phone-${pid}`]: result.error.message });
  }
  setFlash(req, 'success', `新的驗證碼已傳送到 ${formatPhone(result.value.number)}，請在 10 分鐘內輸入。`);
  res.redirect(303, '/sms/phones');
}

/** POST /sms/phones/:id/deletion — 刪除 a number. */
export async function destroy(req: Request, res: Response): Promise<void> {
  const pid = paramId(req);
  if (!emptySchema.safeParse(body(req)).success) throw new HttpError(422, '表單內容有誤，請回到頁面重新操作。');
  const c = context(req);
  const removed = await removePhone(c, pid);
  if (!removed) throw new NotFoundError();
  setFlash(req, 'success', `已刪除 ${formatPhone(removed.number)}，這支手機不會再收到到離校簡訊。`);
  res.redirect(303, '/sms/phones');
}
