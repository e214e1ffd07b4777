import type { Request, Response } from 'express';
import { z } from 'zod';
import { myClasses } from '../domain/scope.js';
import { depsOf, userOf } from '../deps.js';
import { actorOf } from '../middleware/actor.js';
import {
  MAX_MESSAGE_CHARS,
  MESSAGES_PER_HOUR,
  findSentMessage,
  listSentMessages,
  messagesForParent,
  sendMessage,
  smsLength,
  studentsOfClass,
  type Audience,
  type MessageSummary,
} from '../domain/messages/messages.js';
import { failureWords, SMS_STATUS_LABELS } from '../domain/sms/sms-words.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, id, optionalId, text, paramId } from '../validation.js';
import { listQuery, pageLinks, parseListQuery, readList } from './list-kit.js';
import type { Page } from '../domain/paging.js';

const IndexQuery = listQuery({ classId: optionalId });

const SendForm = z.strictObject({
  ...csrfField,
  classId: optionalId,
  audience: z.enum(['school', 'class', 'students'], { error: '請選擇發送對象' }),
  studentIds: z.union([id, z.array(id).max(200)]).optional(),
  body: text(MAX_MESSAGE_CHARS * 4, { min: 1, multiline: true }).refine(
    (v) => smsLength(v) <= MAX_MESSAGE_CHARS,
    `訊息最多 ${MAX_MESSAGE_CHARS} 個字`,
  ),
});

interface ComposeState {
  classId: number | undefined;
  audience: string;
  studentIds: number[];
  body: string;
}

async function renderStaff(
  req: Request,
  res: Response,
  state: ComposeState,
  sent?: { list: Page<MessageSummary>; queryError: string | undefined },
  errors: Record<string, string> = {},
  status = 200,
) {
  const { knex } = depsOf(req).db;
  const user = userOf(req);
  const classes = await myClasses(knex, user);
  let classId = state.classId;
  if (classId !== undefined && !classes.some((c) => c.id === classId)) throw new NotFoundError();
  if (classId === undefined && user.role === 'teacher') classId = classes[0]?.id;
  const students = classId !== undefined ? await studentsOfClass(knex, user, classId) : [];
  const { list, queryError } = sent ?? { list: await listSentMessages(knex, user, 1), queryError: undefined };
  res.status(status).render('messages/index', {
    title: '訊息發送服務',
    classes,
    classId,
    students,
    values: { ...state, classId },
    errors,
    count: smsLength(state.body),
    max: MAX_MESSAGE_CHARS,
    perHour: MESSAGES_PER_HOUR,
    list,
    queryError,
    pageLink: pageLinks('/messages', { classId }),
  });
}

/** GET /messages — staff: compose + sent list; parent: the messages sent to their children (read-only). */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { knex } = depsOf(req).db;
  const parsed = parseListQuery(IndexQuery, req);
  if (user.role === 'parent') {
    const answer = await readList(parsed, (q) => messagesForParent(knex, user, q.page));
    return res.status(answer.status).render('messages/parent', {
      title: '訊息發送服務',
      list: answer.list,
      queryError: answer.queryError,
      pageLink: pageLinks('/messages'),
    });
  }
  const classId = parsed.ok ? parsed.value.classId : undefined;
  const answer = await readList(parsed, (q) => listSentMessages(knex, user, q.page));
  await renderStaff(
    req,
    res,
    {
      classId,
      audience: classId ? 'class' : user.role === 'school_admin' ? 'school' : 'class',
      studentIds: [],
      body: '',
    },
    answer,
    {},
    answer.status,
  );
}

/** POST /messages — send (teacher: a class or chosen students of it; school admin: also the whole school). */
export async function create(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const parsed = SendForm.safeParse(req.body);
  const b = (req.body ?? {}) as Record<string, unknown>;
  const fallback: ComposeState = {
    classId: typeof b.classId === 'string' && /^[1-9]\d{0,8}$/.test(b.classId) ? Number(b.classId) : undefined,
    audience: typeof b.audience === 'string' ? b.audience : 'class',
    studentIds: (Array.isArray(b.studentIds) ? b.studentIds : [b.studentIds])
      .filter((v): v is string => typeof v === 'string' && /^[1-9]\d{0,8}$/.test(v))
      .map(Number),
    body: typeof b.body === 'string' ? b.body.slice(0, 1000) : '',
  };
  if (!parsed.success) return renderStaff(req, res, fallback, undefined, fieldErrors(parsed.error), 422);
  const f = parsed.data;
  const studentIds = f.studentIds === undefined ? [] : Array.isArray(f.studentIds) ? f.studentIds : [f.studentIds];
  const state: ComposeState = { classId: f.classId, audience: f.audience, studentIds, body: f.body };
  let audience: Audience;
  if (f.audience === 'school') {
    if (user.role !== 'school_admin') throw new NotFoundError();
    audience = { kind: 'school' };
  } else {
    if (f.classId === undefined) return renderStaff(req, res, state, undefined, { classId: '請選擇班級' }, 422);
    audience =
      f.audience === 'class'
        ? { kind: 'class', classId: f.classId }
        : { kind: 'students', classId: f.classId, studentIds };
    if (audience.kind === 'students' && studentIds.length === 0)
      return renderStaff(req, res, state, undefined, { studentIds: '請勾選至少一位學生，或改選「全班家長」' }, 422);
  }
  const result = await sendMessage(db.knex, user, audience, f.body, clock.now(), actorOf(req));
  if (!result.ok) {
    switch (result.reason) {
      case 'not_found':
        req.log.warn({ event: 'scope.refused', area: 'messages' }, 'message to students out of scope');
        throw new NotFoundError();
      case 'rate_limited':
        req.log.info({ event: 'message.rate_limited' }, 'message rate limit');
        return renderStaff(
          req,
          res,
          state,
          undefined,
          { _form: `每個帳號每小時最多發送 ${MESSAGES_PER_HOUR} 則訊息，請稍後再試。` },
          429,
        );
      case 'no_recipients':
        return renderStaff(
          req,
          res,
          state,
          undefined,
          { _form: '所選學生的家長都沒有已驗證的手機號碼，訊息未發送。' },
          422,
        );
      case 'too_long':
      case 'empty':
        return renderStaff(req, res, state, undefined, { body: `訊息最多 ${MAX_MESSAGE_CHARS} 個字` }, 422);
    }
  }
  req.log.info({ event: 'message.sent', messageId: result.messageId, recipients: result.recipients }, 'message queued');
  setFlash(
    req,
    'success',
    `訊息已送出，將發送給 ${result.students} 位學生的家長（共 ${result.recipients} 個已驗證手機號碼）。`,
  );
  res.redirect(303, `/messages/${result.messageId}`);
}

/** GET /messages/:id — one sent message with each recipient's status (numbers masked). Staff only. */
export async function show(req: Request, res: Response): Promise<void> {
  const m = await findSentMessage(depsOf(req).db.knex, userOf(req), paramId(req));
  if (!m) throw new NotFoundError();
  res.render('messages/show', { title: '訊息發送狀態', m, statusLabels: SMS_STATUS_LABELS, failureWords });
}
