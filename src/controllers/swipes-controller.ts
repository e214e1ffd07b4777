/**
 * 未對應刷卡 (school admin): swipes of unknown or retired cards, kept until the school assigns each to a
 * student (by 學號) or marks it ignored. Resolving sends no SMS. Also 卡片管理: issue and retire cards.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { actorOf } from '../middleware/actor.js';
import { listUnmatched, resolveUnmatched } from '../domain/swipes/unmatched.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, date, fieldErrors, id, text, paramId } from '../validation.js';
import { listQuery, pageLinks, parseListQuery, readList } from './list-kit.js';
import {
  CARD_UID_RE,
  CardError,
  cardsOfStudent,
  issueCard,
  retireSchoolCard,
  schoolStudentByNumber,
} from '../domain/swipes/cards.js';

const ListQuery = listQuery({});
const ResolutionForm = z.discriminatedUnion(
  'action',
  [
    z.strictObject({
      ...csrfField,
      action: z.literal('assign'),
      studentNumber: text(16, { min: 1 }).pipe(z.string().regex(/^[0-9A-Za-z]{1,16}$/, '學號格式有誤')),
    }),
    z.strictObject({ ...csrfField, action: z.literal('ignore'), studentNumber: z.string().max(64).optional() }),
  ],
  { error: '請選擇處理方式' },
);

async function render(
  req: Request,
  res: Response,
  o: { status?: number; errorFor?: number; error?: string; value?: string } = {},
): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const answer = await readList(parseListQuery(ListQuery, req), (q) => listUnmatched(db.knex, user, q.page));
  res.status(o.status ?? answer.status).render('swipes/unmatched', {
    title: '未對應刷卡',
    list: answer.list,
    queryError: answer.queryError,
    pageLink: pageLinks('/swipes/unmatched'),
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
  const swipeId = paramId(req);
  const parsed = ResolutionForm.safeParse(req.body ?? {});
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    const raw = (req.body as Record<string, unknown> | undefined)?.studentNumber;
    return render(req, res, {
      status: 422,
      errorFor: swipeId,
      error: errors.studentNumber ?? errors.action ?? errors._form ?? '輸入的資料有誤',
      value: typeof raw === 'string' ? raw.slice(0, 32) : '',
    });
  }
  const form = parsed.data;
  const result = await resolveUnmatched(
    db.knex,
    actorOf(req),
    user,
    swipeId,
    form.action === 'assign' ? { kind: 'assign', studentNumber: form.studentNumber } : { kind: 'ignore' },
    clock.now(),
    { departureMinMinutes: depsOf(req).config.attendance.departureMinMinutes },
  );
  if (result.outcome === 'not_found') {
    req.log.warn({ swipeId: swipeId }, 'scope refusal or already resolved: swipe');
    throw new NotFoundError();
  }
  if (result.outcome === 'no_such_student') {
    return render(req, res, {
      status: 422,
      errorFor: swipeId,
      error: '本校沒有這個學號的學生',
      value: form.action === 'assign' ? form.studentNumber : '',
    });
  }
  setFlash(req, 'success', result.outcome === 'assigned' ? '已將刷卡紀錄指定給學生' : '已將刷卡紀錄標示為忽略');
  res.redirect(303, '/swipes/unmatched');
}

// ---- 卡片管理 (school admin): look a student up by 學號, issue a card, retire a card. ----

const STUDENT_NUMBER = text(16, { min: 1 }).pipe(z.string().regex(/^[0-9A-Za-z]{1,16}$/, '學號格式有誤'));
const CardsQuery = z.strictObject({ studentNumber: STUDENT_NUMBER.optional() });
const IssueForm = z.strictObject({
  ...csrfField,
  studentNumber: STUDENT_NUMBER,
  cardUid: text(64, { min: 1 }).pipe(z.string().regex(CARD_UID_RE, '卡號只能包含英文字母、數字、「:」或「-」')),
  validFrom: date,
});
const RetireForm = z.strictObject({ ...csrfField, studentNumber: STUDENT_NUMBER, cardId: id, fromDate: date });

const studentByNumber = (req: Request, studentNumber: string) =>
  schoolStudentByNumber(depsOf(req).db.knex, userOf(req), studentNumber);

async function renderCards(
  req: Request,
  res: Response,
  o: { status?: number; studentNumber?: string; errors?: Record<string, string>; values?: Record<string, string> } = {},
): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  let studentNumber = o.studentNumber;
  let lookupError: string | undefined;
  if (studentNumber === undefined) {
    const q = CardsQuery.safeParse({ ...req.query });
    if (q.success) studentNumber = q.data.studentNumber;
    else lookupError = fieldErrors(q.error).studentNumber ?? '查詢條件有誤';
  }
  const student = studentNumber ? await studentByNumber(req, studentNumber) : undefined;
  if (studentNumber && !student) lookupError = '本校沒有這個學號的學生';
  const cards = student ? await cardsOfStudent(db.knex, user.schoolId, student.id) : [];
  const today = clock.today();
  res.status(o.status ?? (lookupError ? 404 : 200)).render('swipes/cards', {
    title: '卡片管理',
    lookup: typeof req.query.studentNumber === 'string' ? req.query.studentNumber.slice(0, 32) : (studentNumber ?? ''),
    lookupError,
    student: student
      ? { name: student.name, studentNumber: student.student_number, className: student.class_name }
      : undefined,
    cards,
    today,
    errors: o.errors ?? {},
    values: o.values ?? { cardUid: '', validFrom: today },
  });
}

/** GET /swipes/cards?studentNumber=… */
export async function cards(req: Request, res: Response): Promise<void> {
  await renderCards(req, res);
}

/** POST /swipes/cards — issue a card (the student's open cards end the day before it starts). */
export async function issue(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const sn = STUDENT_NUMBER.safeParse(body.studentNumber);
  if (!sn.success) throw new NotFoundError();
  const student = await studentByNumber(req, sn.data);
  if (!student) throw new NotFoundError();
  const values = {
    cardUid: typeof body.cardUid === 'string' ? body.cardUid.slice(0, 80) : '',
    validFrom: typeof body.validFrom === 'string' ? body.validFrom.slice(0, 20) : '',
  };
  const parsed = IssueForm.safeParse(body);
  if (!parsed.success) {
    return renderCards(req, res, { status: 422, studentNumber: sn.data, errors: fieldErrors(parsed.error), values });
  }
  try {
    await issueCard(
      db.knex,
      { studentId: student.id, cardUid: parsed.data.cardUid, validFrom: parsed.data.validFrom },
      actorOf(req),
    );
  } catch (err) {
    if (!(err instanceof CardError)) throw err;
    const message = /another student/.test(err.message)
      ? '此卡號目前仍登錄給其他學生，請先停用'
      : /already holds/.test(err.message)
        ? '此學生已持有這張卡'
        : '卡片資料有誤';
    return renderCards(req, res, { status: 422, studentNumber: sn.data, errors: { cardUid: message }, values });
  }
  req.log.info({ studentId: student.id, schoolId: user.schoolId }, 'card issued');
  setFlash(req, 'success', '已發卡');
  res.redirect(303, `/swipes/cards?studentNumber=${encodeURIComponent(sn.data)}`);
}

/** POST /swipes/cards/retire — a lost card stops mapping from `fromDate` on. */
export async function retire(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const parsed = RetireForm.safeParse(req.body ?? {});
  if (!parsed.success) {
    const sn = STUDENT_NUMBER.safeParse((req.body as Record<string, unknown> | undefined)?.studentNumber);
    if (!sn.success) throw new NotFoundError();
    return renderCards(req, res, {
      status: 422,
      studentNumber: sn.data,
      errors: { retire: fieldErrors(parsed.error).fromDate ?? '輸入的資料有誤' },
    });
  }
  const student = await studentByNumber(req, parsed.data.studentNumber);
  if (!student) throw new NotFoundError();
  const ok = await retireSchoolCard(db.knex, actorOf(req), {
    schoolId: user.schoolId,
    studentId: student.id,
    cardId: parsed.data.cardId,
    fromDate: parsed.data.fromDate,
  });
  if (!ok) throw new NotFoundError();
  setFlash(req, 'success', `已停用卡片（${parsed.data.fromDate} 起失效）`);
  res.redirect(303, `/swipes/cards?studentNumber=${encodeURIComponent(parsed.data.studentNumber)}`);
}
