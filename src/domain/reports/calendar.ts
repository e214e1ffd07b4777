/**
 * A parent's 統計報表: the current child's month of attendance as a calendar. A day with a record shows its
 * 到校 / 離校 time (or 補登); a past school day without one shows 未刷卡 — never "absent".
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { loadDays } from '../attendance/days.js';
import { loadHolidays } from '../schools/school-calendar.js';
import { cellText, NO_SWIPE } from '../attendance/rules.js';
import { visibleStudentIds } from '../scope.js';
import { addDays, isSchoolDay, isWeekend, monthRange, weekdayOf } from '../time.js';

export interface CalendarDay {
  date: string;
  day: number;
  weekday: number;
  kind: 'record' | 'no_record' | 'off' | 'holiday' | 'future';
  arrival: string;
  departure: string;
  holidayName?: string;
}

/** How far back the calendar goes: this month and the 12 before it. */
export const MONTHS_BACK = 12;

/** The earliest month a parent may open ('YYYY-MM'). */
export function earliestMonth(today: string): string {
  const y = Number(today.slice(0, 4));
  const m = Number(today.slice(5, 7)) - MONTHS_BACK;
  const yy = m <= 0 ? y - Math.ceil((1 - m) / 12) : y;
  const mm = ((((m - 1) % 12) + 12) % 12) + 1;
  return `${yy}-${String(mm).padStart(2, '0')}`;
}

export interface MonthCalendar {
  month: string;
  prevMonth: string | undefined;
  nextMonth: string | undefined;
  weeks: (CalendarDay | undefined)[][];
  recordDays: number;
  schoolDays: number;
}

export async function monthCalendar(
  knex: Knex,
  user: CurrentUser,
  month: string,
  today: string,
): Promise<MonthCalendar | undefined> {
  const child = user.currentChild;
  if (!child) return undefined;
  // The scope in SQL: the child must be one of this parent's.
  const st = await knex('students as st')
    .where('st.id', child.id)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .first('st.id', 'st.school_id');
  if (!st) return undefined;
  const { from, to } = monthRange(`${month}-01`);
  const book = await loadDays(knex, [st.id as number], from, to);
  const holidays = await loadHolidays(knex, st.school_id as number, from, to);
  const names = new Map(
    (
      (await knex('school_holidays')
        .where('school_id', st.school_id)
        .whereBetween('holiday_on', [from, to])
        .select('holiday_on', 'name')) as {
        holiday_on: string;
        name: string;
      }[]
    ).map((h) => [h.holiday_on, h.name]),
  );
  const days = book.get(st.id as number);
  const cells: CalendarDay[] = [];
  let recordDays = 0;
  let schoolDays = 0;
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const rec = days?.get(d);
    const a = rec ?? { arrival: undefined, departure: undefined };
    const has = Boolean(a.arrival || a.departure);
    let kind: CalendarDay['kind'];
    if (has) kind = 'record';
    else if (d > today) kind = 'future';
    else if (holidays.has(d)) kind = 'holiday';
    else if (isWeekend(d)) kind = 'off';
    else kind = 'no_record';
    if (has) recordDays++;
    if (isSchoolDay(d, holidays) && d <= today) schoolDays++;
    cells.push({
      date: d,
      day: Number(d.slice(8)),
      weekday: weekdayOf(d),
      kind,
      arrival: has ? cellText(a.arrival) : kind === 'no_record' ? NO_SWIPE : '',
      departure: has ? cellText(a.departure) : '',
      ...(names.has(d) ? { holidayName: names.get(d) } : {}),
    });
  }
  // Weeks from Sunday to Saturday, padded.
  const weeks: (CalendarDay | undefined)[][] = [];
  let week: (CalendarDay | undefined)[] = Array.from({ length: cells[0]?.weekday ?? 0 }, () => undefined);
  for (const c of cells) {
    week.push(c);
    if (week.length === 7) {
      weeks.push(week);
      week = [];
    }
  }
  if (week.length > 0) weeks.push([...week, ...Array.from({ length: 7 - week.length }, () => undefined)]);
  const prev = addDays(from, -1).slice(0, 7);
  const prevMonth = prev >= earliestMonth(today) ? prev : undefined;
  const nextFirst = addDays(to, 1);
  return {
    month,
    prevMonth,
    nextMonth: nextFirst <= today ? nextFirst.slice(0, 7) : undefined,
    weeks,
    recordDays,
    schoolDays,
  };
}
