/**
 * 學校行事曆 (school admin, under 出勤管理): the school's holidays (single days and named ranges such as 寒假) from
 * the current school year on, and the dismissal start (放學時間) of each weekday. The rules live in
 * domain/schools/school-calendar.ts; every change is audited in its own transaction.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { actorOf } from '../middleware/actor.js';
import {
  addHolidayRange,
  CalendarError,
  dismissalStartsOf,
  holidayRanges,
  HHMM_RE,
  removeHolidayRange,
  SCHOOL_WEEKDAYS,
  setDismissalStarts,
} from '../domain/schools/school-calendar.js';
import { daysBetween, schoolYearOf, WEEKDAYS } from '../domain/time.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, date, fieldErrors, paramId, text } from '../validation.js';

const HolidayForm = z.strictObject({
  ...csrfField,
  name: text(50, { min: 1, prose: true }),
  from: date,
  to: z.union([z.literal(''), date]).optional(),
});

const hhmm = z.string({ error: '請輸入放學時間' }).regex(HHMM_RE, '時間格式應為 HH:mm，例如 11:30');
const DismissalForm = z.strictObject({
  ...csrfField,
  weekday1: hhmm,
  weekday2: hhmm,
  weekday3: hhmm,
  weekday4: hhmm,
  weekday5: hhmm,
});

const WEEKDAY_FIELDS = SCHOOL_WEEKDAYS.map((w) => ({ weekday: w, field: `weekday${w}`, label: WEEKDAYS[w]! }));

/** The first day of the current school year (1 August): the list starts there. */
function schoolYearStart(today: string): string {
  return `${schoolYearOf(today) + 1911}-08-01`;
}

interface RenderState {
  status?: number;
  holidayErrors?: Record<string, string>;
  holidayValues?: Record<string, string>;
  dismissalErrors?: Record<string, string>;
  dismissalValues?: Record<string, string>;
}

async function render(req: Request, res: Response, s: RenderState = {}): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const today = clock.today();
  const from = schoolYearStart(today);
  const [ranges, starts] = await Promise.all([
    holidayRanges(db.knex, user.schoolId, from),
    dismissalStartsOf(db.knex, user.schoolId),
  ]);
  res.status(s.status ?? 200).render('attendance/calendar', {
    title: '學校行事曆',
    schoolYear: schoolYearOf(today),
    ranges: ranges.map((r) => ({ ...r, days: daysBetween(r.from, r.to) + 1, past: r.to < today })),
    weekdays: WEEKDAY_FIELDS,
    departureMinMinutes: depsOf(req).config.attendance.departureMinMinutes,
    holidayErrors: s.holidayErrors ?? {},
    holidayValues: s.holidayValues ?? { name: '', from: '', to: '' },
    dismissalErrors: s.dismissalErrors ?? {},
    dismissalValues:
      s.dismissalValues ?? Object.fromEntries(WEEKDAY_FIELDS.map((w) => [w.field, starts.get(w.weekday) ?? ''])),
  });
}

const bodyOf = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
const typed = (body: Record<string, unknown>, k: string) =>
  typeof body[k] === 'string' ? (body[k] as string).slice(0, 200) : '';

/** GET /attendance/calendar */
export async function show(req: Request, res: Response): Promise<void> {
  await render(req, res);
}

/** POST /attendance/calendar/holidays — a holiday (one day: 結束日期 left empty) or a named range. */
export async function createHoliday(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const body = bodyOf(req);
  const holidayValues = { name: typed(body, 'name'), from: typed(body, 'from'), to: typed(body, 'to') };
  const parsed = HolidayForm.safeParse(body);
  if (!parsed.success)
    return render(req, res, { status: 422, holidayErrors: fieldErrors(parsed.error), holidayValues });
  const h = parsed.data;
  const to = h.to || h.from;
  try {
    await addHolidayRange(
      db.knex,
      { schoolIds: [user.schoolId], from: h.from, to, name: h.name, byAccountId: user.accountId },
      actorOf(req),
    );
  } catch (e) {
    if (!(e instanceof CalendarError)) throw e;
    return render(req, res, { status: 422, holidayErrors: { [e.field ?? '_form']: e.message }, holidayValues });
  }
  setFlash(req, 'success', `已新增假日「${h.name}」${h.from === to ? h.from : `${h.from}~${to}`}`);
  res.redirect(303, '/attendance/calendar');
}

/** GET /attendance/calendar/holidays/:id/removal — asks for confirmation. */
export async function confirmRemoval(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const rangeId = paramId(req);
  const range = (await holidayRanges(depsOf(req).db.knex, user.schoolId)).find((r) => r.id === rangeId);
  if (!range) throw new NotFoundError();
  res.render('attendance/calendar-removal', { title: '刪除假日', range, days: daysBetween(range.from, range.to) + 1 });
}

/** POST /attendance/calendar/holidays/:id/removal */
export async function removeHoliday(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const rangeId = paramId(req);
  const removed = await removeHolidayRange(depsOf(req).db.knex, { schoolId: user.schoolId, rangeId }, actorOf(req));
  if (!removed) {
    req.log.warn({ rangeId }, 'scope refusal: holiday range');
    throw new NotFoundError();
  }
  setFlash(
    req,
    'success',
    `已刪除假日「${removed.name}」${removed.from === removed.to ? removed.from : `${removed.from}~${removed.to}`}`,
  );
  res.redirect(303, '/attendance/calendar');
}

/** POST /attendance/calendar/dismissal-times — 放學時間 of 星期一 … 星期五. */
export async function updateDismissalTimes(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db } = depsOf(req);
  const body = bodyOf(req);
  const dismissalValues = Object.fromEntries(WEEKDAY_FIELDS.map((w) => [w.field, typed(body, w.field).slice(0, 20)]));
  const parsed = DismissalForm.safeParse(body);
  if (!parsed.success)
    return render(req, res, { status: 422, dismissalErrors: fieldErrors(parsed.error), dismissalValues });
  const starts = new Map(
    WEEKDAY_FIELDS.map((w) => [w.weekday, parsed.data[w.field as keyof typeof parsed.data] as string]),
  );
  const changes = await setDismissalStarts(
    db.knex,
    { schoolId: user.schoolId, starts, byAccountId: user.accountId },
    actorOf(req),
  );
  setFlash(
    req,
    'success',
    changes.length === 0
      ? '放學時間沒有變更'
      : `已更新放學時間：${changes.map((c) => `${WEEKDAYS[c.weekday]} ${c.to}`).join('、')}`,
  );
  res.redirect(303, '/attendance/calendar');
}
