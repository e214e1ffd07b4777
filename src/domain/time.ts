/**
 * Calendar logic in Asia/Taipei, whatever the server's TZ. Taiwan keeps UTC+08:00 all year (no DST),
 * so a Taipei wall-clock reading is the UTC instant shifted by eight hours.
 * Dates travel as 'YYYY-MM-DD' strings, never as JavaScript Dates.
 */
const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const WEEKDAYS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'] as const;
export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The Taipei calendar date of an instant. */
export function taipeiDate(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** The Taipei wall-clock time `HH:mm` of an instant. */
export function taipeiTime(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(11, 16);
}

/** The instant of 00:00 Taipei on a date. */
export function startOfTaipeiDay(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00+08:00`));
}

/** The instant of a Taipei date and `HH:mm`. */
export function taipeiInstant(date: string, time: string): Date {
  return new Date(Date.parse(`${date}T${time}:00+08:00`));
}

/** The dates the portal works with: anything outside is a typing mistake (or an attack on a loop). */
export const MIN_DATE = '2000-01-01';
export const MAX_DATE = '2099-12-31';

/** A real calendar date 'YYYY-MM-DD' between MIN_DATE and MAX_DATE. */
export function isValidDate(date: string): boolean {
  if (!DATE_RE.test(date) || date < MIN_DATE || date > MAX_DATE) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date;
}

export function addDays(date: string, days: number): string {
  const out = new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
  // Past year 9999 toISOString() gives '+010000-…', which sorts before every date: never let it through.
  if (!DATE_RE.test(out)) throw new RangeError(`date out of range: ${date} + ${days} days`);
  return out;
}

/** Whole days from a to b (b - a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

export function weekdayName(date: string): string {
  return WEEKDAYS[weekdayOf(date)] ?? '';
}

export function isWeekend(date: string): boolean {
  const d = weekdayOf(date);
  return d === 0 || d === 6;
}

/**
 * A school day: a weekday that is not a holiday of the school — the one rule of the attendance grid, 首頁's
 * 出勤統計, the reports, the fees and refunds, and the reminders' age (holidays: schools/school-calendar.ts).
 */
export function isSchoolDay(date: string, holidays: ReadonlySet<string>): boolean {
  return !isWeekend(date) && !holidays.has(date);
}

/** 'MM-DD' as the attendance grid shows it. */
export function shortDate(date: string): string {
  return date.slice(5);
}

/** First and last day of the month containing a date. */
export function monthRange(date: string): { from: string; to: string } {
  const from = `${date.slice(0, 7)}-01`;
  const next = new Date(Date.parse(`${from}T00:00:00Z`));
  next.setUTCMonth(next.getUTCMonth() + 1);
  return { from, to: addDays(next.toISOString().slice(0, 10), -1) };
}

/** ROC school year (學年度) of a date: 學年度 N runs from August of N+1911. */
export function schoolYearOf(date: string): number {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  return (m >= 8 ? y : y - 1) - 1911;
}
