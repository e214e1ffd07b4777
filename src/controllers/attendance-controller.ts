/**
 * 出勤管理.
 * - A parent: the current child's grid over any date range (this month by default).
 * - Staff: a class's day view (a teacher's own classes; an admin's whole school) with 補登 and a CSV export.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { myClasses } from '../domain/scope.js';
import { depsOf, userOf } from '../deps.js';
import type { CurrentUser } from '../domain/accounts/current-user.js';
import { actorOf } from '../middleware/actor.js';
import {
  addManualEntry,
  correctManualEntry,
  deleteManualEntry,
  manualEntriesOfClass,
  visibleManualEntry,
} from '../domain/attendance/manual-entries.js';
import { classDays, dayDetails, exportClassDays, studentGrid, visibleStudent } from '../domain/attendance/records.js';
import { READER_DIRECTION_LABELS } from '../domain/attendance/rules.js';
import { holidayOn } from '../domain/schools/school-calendar.js';
import { addDays, daysBetween, taipeiTime } from '../domain/time.js';
import { BadRequestError, NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, date, fieldErrors, id, optionalId, paramId, text } from '../validation.js';
import { HOME_WINDOW_DAYS } from './home-controller.js';

/** The longest range a page or an export covers. */
export const MAX_RANGE_DAYS = 366;

const ParentQuery = z.strictObject({ from: date.optional(), to: date.optional() });
const StaffQuery = z.strictObject({ classId: optionalId, date: date.optional() });
const ExportQuery = z.strictObject({ classId: id, date: date.optional(), from: date.optional(), to: date.optional() });

const TIME_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const timeField = z.string({ error: '請輸入時間' }).regex(TIME_RE, '時間格式應為 HH:mm，例如 09:11');
const directionField = z.enum(['arrival', 'departure'], { error: '請選擇到校或離校' });
const ManualEntryForm = z.strictObject({
  ...csrfField,
  classId: id,
  studentId: z
    .string({ error: '請選擇學生' })
    .regex(/^[1-9]\d{0,9}$/, '請選擇學生')
    .transform(Number),
  date,
  time: timeField,
  direction: directionField,
  reason: text(200, { min: 1, prose: true }),
});

const CorrectionForm = z.strictObject({
  ...csrfField,
  time: timeField,
  direction: directionField,
  reason: text(200, { min: 1, prose: true }),
});
const DeletionForm = z.strictObject({ ...csrfField, reason: text(200, { min: 1, prose: true }) });

function ruleOptions(req: Request) {
  return { departureMinMinutes: depsOf(req).config.attendance.departureMinMinutes };
}

/** GET /attendance */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  if (user.role === 'parent') return parentView(req, res, user);
  return staffView(req, res, user, {});
}

async function parentView(req: Request, res: Response, user: CurrentUser): Promise<void> {
  const { db, clock } = depsOf(req);
  const today = clock.today();
  // Opens on the same window as 首頁's 出勤統計: the school days of the last 7 days.
  const defaults = { from: addDays(today, -(HOME_WINDOW_DAYS - 1)), to: today };
  const parsed = ParentQuery.safeParse({ ...req.query });
  const errors: Record<string, string> = parsed.success ? {} : fieldErrors(parsed.error);
  let from = parsed.success ? (parsed.data.from ?? defaults.from) : defaults.from;
  let to = parsed.success ? (parsed.data.to ?? defaults.to) : defaults.to;
  if (parsed.success && from > to) errors.to = '結束日期不可早於開始日期';
  else if (parsed.success && daysBetween(from, to) >= MAX_RANGE_DAYS) errors.to = `查詢期間最多 ${MAX_RANGE_DAYS} 天`;
  const invalid = Object.keys(errors).length > 0;
  const values = {
    from: typeof req.query.from === 'string' ? req.query.from.slice(0, 20) : from,
    to: typeof req.query.to === 'string' ? req.query.to.slice(0, 20) : to,
  };
  if (invalid) ({ from, to } = defaults);
  const child = user.currentChild ? await visibleStudent(db.knex, user, user.currentChild.id) : undefined;
  // Days after today have no records yet: the grid stops at today.
  const shownTo = to > today ? today : to;
  const rows = child ? await studentGrid(db.knex, child, from, shownTo) : [];
  res.status(invalid ? 400 : 200).render('attendance/parent', {
    title: '出勤管理',
    childName: child?.name ?? '',
    hasChild: child !== undefined,
    rows,
    from,
    to: shownTo < from ? from : shownTo,
    values,
    errors,
  });
}

interface StaffViewExtras {
  status?: number;
  errors?: Record<string, string>;
  values?: Record<string, string>;
  classId?: number;
  date?: string;
}

async function staffView(req: Request, res: Response, user: CurrentUser, extra: StaffViewExtras): Promise<void> {
  const { db, clock } = depsOf(req);
  const today = clock.today();
  const classes = await myClasses(db.knex, user);
  let classId = extra.classId;
  let day = extra.date;
  let queryErrors: Record<string, string> = {};
  if (classId === undefined) {
    const parsed = StaffQuery.safeParse({ ...req.query });
    if (parsed.success) {
      classId = parsed.data.classId;
      day = parsed.data.date;
    } else queryErrors = fieldErrors(parsed.error);
  }
  day ??= today;
  if (classId === undefined) classId = classes[0]?.id;
  const view = classId === undefined ? undefined : await classDays(db.knex, user, classId, day, day);
  if (classId !== undefined && !view) throw new NotFoundError();
  const entries = view ? await manualEntriesOfClass(db.knex, user, view.cls.id, day, day) : [];
  const rows = view?.rows ?? [];
  const holiday = view ? await holidayOn(db.knex, user.schoolId, day) : undefined;
  const details = view
    ? await dayDetails(
        db.knex,
        user.schoolId,
        view.students.map((s) => s.id),
        day,
        ruleOptions(req),
      )
    : new Map();
  const status = extra.status ?? (Object.keys(queryErrors).length > 0 ? 400 : 200);
  res.status(status).render('attendance/class-day', {
    title: '出勤管理',
    classes,
    cls: view?.cls,
    day,
    today,
    rows,
    students: view?.students ?? [],
    entries,
    details,
    holiday,
    readerLabels: READER_DIRECTION_LABELS,
    arrived: rows.filter((r) => r.arrival !== '未刷卡').length,
    noRecord: rows.filter((r) => r.noRecord).length,
    isAdmin: user.role === 'school_admin',
    queryError: queryErrors.classId ?? queryErrors.date ?? queryErrors._form,
    errors: extra.errors ?? {},
    values: extra.values ?? { studentId: '', date: day, time: '', direction: '', reason: '' },
    exportFrom: addDays(day, -6),
  });
}

/** POST /attendance/manual-entries — 補登 (staff). */
export async function createManualEntry(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).slice(0, 400) : '');
  const values = {
    studentId: str('studentId'),
    date: str('date'),
    time: str('time'),
    direction: str('direction'),
    reason: str('reason'),
  };
  const classIdParsed = id.safeParse(body.classId);
  if (!classIdParsed.success) throw new NotFoundError();
  const classId = classIdParsed.data;

  const parsed = ManualEntryForm.safeParse(body);
  const errors: Record<string, string> = parsed.success ? {} : fieldErrors(parsed.error);
  const today = clock.today();
  if (parsed.success) {
    const e = parsed.data;
    if (e.date > today) errors.date = '不可補登未來的日期';
    else if (e.date === today && e.time > taipeiTime(clock.now())) errors.time = '不可補登未來的時間';
    else if (daysBetween(e.date, today) > 365) errors.date = '只能補登一年內的紀錄';
  }
  if (!parsed.success || Object.keys(errors).length > 0) {
    const shownDate = parsed.success ? parsed.data.date : date.safeParse(values.date).success ? values.date : today;
    return staffView(req, res, user, { status: 422, errors, values, classId, date: shownDate });
  }
  const e = parsed.data;
  const entryId = await addManualEntry(
    db.knex,
    user,
    { studentId: e.studentId, classId, date: e.date, time: e.time, direction: e.direction, reason: e.reason },
    ruleOptions(req),
    actorOf(req),
  );
  if (entryId === undefined) {
    req.log.warn({ studentId: e.studentId, classId }, 'scope refusal: manual entry');
    throw new NotFoundError();
  }
  req.log.info({ entryId, studentId: e.studentId }, 'manual entry recorded');
  setFlash(req, 'success', `已補登${e.direction === 'arrival' ? '到校' : '離校'} ${e.date} ${e.time}`);
  res.redirect(303, `/attendance?classId=${classId}&date=${e.date}`);
}

type VisibleEntry = NonNullable<Awaited<ReturnType<typeof visibleManualEntry>>>;

function renderEntry(
  res: Response,
  entry: VisibleEntry,
  o: {
    status?: number;
    errors?: Record<string, string>;
    values?: Record<string, string>;
    deleteErrors?: Record<string, string>;
    deleteValues?: Record<string, string>;
  } = {},
): void {
  res.status(o.status ?? 200).render('attendance/manual-entry', {
    title: '更正補登',
    entry,
    errors: o.errors ?? {},
    values: o.values ?? { time: entry.time, direction: entry.direction, reason: '' },
    deleteErrors: o.deleteErrors ?? {},
    deleteValues: o.deleteValues ?? { reason: '' },
  });
}

async function entryOr404(req: Request): Promise<VisibleEntry> {
  const entry = await visibleManualEntry(depsOf(req).db.knex, userOf(req), paramId(req));
  if (!entry) throw new NotFoundError();
  return entry;
}

/** GET /attendance/manual-entries/:id — one 補登 with the forms to correct or delete it (staff, own scope). */
export async function showManualEntry(req: Request, res: Response): Promise<void> {
  renderEntry(res, await entryOr404(req));
}

const backToDay = (e: { classId: number; date: string }) => `/attendance?classId=${e.classId}&date=${e.date}`;

/** POST /attendance/manual-entries/:id/correction — a new time (and direction), with a reason. */
export async function correctEntry(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const entry = await entryOr404(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).slice(0, 400) : '');
  const values = { time: str('time'), direction: str('direction'), reason: str('reason') };
  const parsed = CorrectionForm.safeParse(body);
  const errors: Record<string, string> = parsed.success ? {} : fieldErrors(parsed.error);
  if (parsed.success) {
    const c = parsed.data;
    if (entry.date === clock.today() && c.time > taipeiTime(clock.now())) errors.time = '不可補登未來的時間';
    else if (c.time === entry.time && c.direction === entry.direction) errors._form = '時間與類別都沒有變更';
  }
  if (!parsed.success || Object.keys(errors).length > 0)
    return renderEntry(res, entry, { status: 422, errors, values });
  const c = parsed.data;
  const done = await correctManualEntry(db.knex, user, entry.id, c, ruleOptions(req), actorOf(req));
  if (!done) throw new NotFoundError();
  req.log.info({ entryId: entry.id, studentId: entry.studentId }, 'manual entry corrected');
  setFlash(
    req,
    'success',
    `已更正 ${entry.studentName} 的補登：${c.direction === 'arrival' ? '到校' : '離校'} ${entry.date} ${c.time}`,
  );
  res.redirect(303, backToDay(entry));
}

/** POST /attendance/manual-entries/:id/deletion — with a reason; the entry is gone from every page. */
export async function deleteEntry(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const entry = await entryOr404(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const parsed = DeletionForm.safeParse(body);
  if (!parsed.success) {
    const reason = typeof body.reason === 'string' ? body.reason.slice(0, 400) : '';
    return renderEntry(res, entry, { status: 422, deleteErrors: fieldErrors(parsed.error), deleteValues: { reason } });
  }
  const done = await deleteManualEntry(db.knex, user, entry.id, parsed.data.reason, ruleOptions(req), actorOf(req));
  if (!done) throw new NotFoundError();
  req.log.info({ entryId: entry.id, studentId: entry.studentId }, 'manual entry deleted');
  setFlash(
    req,
    'success',
    `已刪除 ${entry.studentName} 的補登（${entry.direction === 'arrival' ? '到校' : '離校'} ${entry.date} ${entry.time}）`,
  );
  res.redirect(303, backToDay(entry));
}

/** GET /attendance/export.csv?classId=…&date=… or &from=…&to=… — the class's attendance (staff). */
export async function exportCsv(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const parsed = ExportQuery.safeParse({ ...req.query });
  if (!parsed.success) throw new BadRequestError('匯出條件有誤：請選擇班級與日期。');
  const q = parsed.data;
  const today = clock.today();
  const from = q.from ?? q.date ?? today;
  const to = q.to ?? q.date ?? from;
  if (from > to || daysBetween(from, to) >= MAX_RANGE_DAYS) {
    throw new BadRequestError(`匯出期間有誤：結束日期不可早於開始日期，且最多 ${MAX_RANGE_DAYS} 天。`);
  }
  const file = await exportClassDays(db.knex, user, actorOf(req), q.classId, from, to);
  if (!file) throw new NotFoundError();
  res
    .status(200)
    .set('Content-Type', 'text/csv; charset=utf-8')
    .set('Content-Disposition', `attachment; filename="${file.filename}"`)
    .send(file.body);
}
