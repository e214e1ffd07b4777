/**
 * The attendance rules (DESIGN.md §4), as pure functions over one student's records of one Asia/Taipei day.
 *
 * - 到校時間 = the first record of the day: a card swipe or a manual arrival entry (補登).
 * - 離校時間 = the last record at least `departureMinMinutes` after the arrival: a swipe, or a manual departure
 *   entry. A manual departure entry says what it is, so it counts from the arrival itself on.
 * - A time that comes from a manual entry shows as `補登 HH:mm`; no record at all shows as `未刷卡`.
 *   未刷卡 means "no record", never "absent".
 */
import { addDays, isWeekend, taipeiTime } from '../time.js';

export type Direction = 'arrival' | 'departure';

export interface SwipeInput {
  /** The swipe's id, so a caller can ask "is this swipe the arrival?". */
  id?: number;
  at: Date;
}

export interface ManualInput {
  direction: Direction;
  /** `HH:mm`, Taipei wall clock. */
  time: string;
}

export interface DayRecords {
  swipes: SwipeInput[];
  manual: ManualInput[];
}

/** The record a cell shows. */
export interface Shown {
  /** `HH:mm`. */
  time: string;
  manual: boolean;
  /** Seconds since 00:00 Taipei (for ordering). */
  second: number;
  swipeId?: number | undefined;
}

export interface DayAttendance {
  arrival: Shown | undefined;
  departure: Shown | undefined;
}

export interface RuleOptions {
  departureMinMinutes: number;
}

export const NO_SWIPE = '未刷卡';
export const MANUAL_PREFIX = '補登';

const DAY_SECONDS = 24 * 60 * 60;

/** Seconds since 00:00 Taipei of an instant. */
function secondOfTaipeiDay(at: Date): number {
  const ms = at.getTime() + 8 * 60 * 60 * 1000;
  return Math.floor((((ms % 86_400_000) + 86_400_000) % 86_400_000) / 1000);
}

function secondOfTime(time: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(time);
  if (!m) throw new Error(`bad time ${time}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60;
}

interface Candidate extends Shown {
  /** 0 for a swipe, 1 for a manual entry: a swipe wins a tie. */
  rank: number;
}

function fromSwipe(s: SwipeInput): Candidate {
  return { time: taipeiTime(s.at), manual: false, second: secondOfTaipeiDay(s.at), swipeId: s.id, rank: 0 };
}

function fromManual(m: ManualInput): Candidate {
  const second = secondOfTime(m.time);
  return { time: m.time, manual: true, second: Math.min(second, DAY_SECONDS - 1), rank: 1 };
}

const strip = (c: Candidate | undefined): Shown | undefined =>
  c ? { time: c.time, manual: c.manual, second: c.second, swipeId: c.swipeId } : undefined;

/** Earliest first; on a tie a swipe comes before a manual entry, then the lower swipe id. */
function byTime(a: Candidate, b: Candidate): number {
  return a.second - b.second || a.rank - b.rank || (a.swipeId ?? 0) - (b.swipeId ?? 0);
}

/** The arrival candidate and the departure candidates (in time order) of a day. */
function analyse(day: DayRecords, o: RuleOptions): { arrival: Candidate | undefined; departures: Candidate[] } {
  const swipes = day.swipes.map(fromSwipe);
  const arrivals = [...swipes, ...day.manual.filter((m) => m.direction === 'arrival').map(fromManual)].sort(byTime);
  const manualDepartures = day.manual.filter((m) => m.direction === 'departure').map(fromManual);
  const arrival = arrivals[0];
  if (!arrival) {
    // No arrival record at all: only an explicit 補登 of the departure can show.
    return { arrival: undefined, departures: manualDepartures.sort(byTime) };
  }
  const threshold = arrival.second + o.departureMinMinutes * 60;
  const departures = [
    ...swipes.filter((s) => s !== arrival && s.second >= threshold),
    ...manualDepartures.filter((m) => m.second >= arrival.second),
  ].sort(byTime);
  return { arrival, departures };
}

/** 到校時間 and 離校時間 of one day. */
export function computeDay(day: DayRecords, o: RuleOptions): DayAttendance {
  const { arrival, departures } = analyse(day, o);
  // The last departure record; among equal times the swipe is preferred.
  let departure: Candidate | undefined;
  for (const d of departures) {
    if (!departure || d.second > departure.second || (d.second === departure.second && d.rank < departure.rank))
      departure = d;
  }
  return { arrival: strip(arrival), departure: strip(departure) };
}

/**
 * Which notice a swipe triggers, if any: 'arrival' when it is the day's first record, 'departure' when it is
 * the day's first record that counts as a departure. `day` must already include the swipe.
 */
export function noticeFor(day: DayRecords, swipeId: number, o: RuleOptions): Direction | undefined {
  const { arrival, departures } = analyse(day, o);
  if (arrival && !arrival.manual && arrival.swipeId === swipeId) return 'arrival';
  const first = departures[0];
  if (first && !first.manual && first.swipeId === swipeId) return 'departure';
  return undefined;
}

/** The text of a grid cell: `07:42`, `補登 09:11` or `未刷卡`. */
export function cellText(shown: Shown | undefined): string {
  if (!shown) return NO_SWIPE;
  return shown.manual ? `${MANUAL_PREFIX} ${shown.time}` : shown.time;
}

/**
 * The rows of an attendance grid between two dates (inclusive, ascending): school days — weekdays that are
 * not holidays of the school — plus any day that has a record.
 */
export function gridDates(from: string, to: string, holidays: ReadonlySet<string>, recordDates: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let d = from;
  for (let guard = 0; d <= to && guard < 4000; guard++) {
    if ((!isWeekend(d) && !holidays.has(d)) || recordDates.has(d)) out.push(d);
    d = addDays(d, 1);
  }
  return out;
}
