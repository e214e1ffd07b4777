/**
 * The attendance rules (docs/product.md), as pure functions over one student's records of one Asia/Taipei day.
 *
 * - 到校時間 = the first record of the day that can be an arrival: a card swipe at an `in` or `both` reader, or a
 *   manual arrival entry (補登). A swipe at an `out` reader is never an arrival: a child who forgot to tap in and
 *   taps out at 16:05 did not arrive at 16:05, and the SMS must not say so.
 * - 離校時間 = the FIRST record, at or after the arrival, that counts as a departure:
 *   - a swipe at a reader whose direction is `out` (an early leave through the exit gate), or
 *   - a swipe at a `both` reader at or after the school's dismissal start for that weekday AND at least
 *     `departureMinMinutes` after the arrival (a second morning tap is never a departure), or
 *   - a manual departure entry (補登), which says what it is, from the arrival on.
 *   A swipe at an `in` reader is never a departure. Later records that day are kept (and listed in the day's
 *   detail) but change nothing: the SMS, the grid, the teacher's day view and the reports show this one time.
 * - A time that comes from a manual entry shows as `補登 HH:mm`; no record at all shows as `未刷卡`.
 *   未刷卡 means "no record", never "absent".
 */
import { addDays, isSchoolDay, taipeiTime } from '../time.js';

export type Direction = 'arrival' | 'departure';

/** Which way a gate reader faces. */
export const READER_DIRECTIONS = ['in', 'out', 'both'] as const;
export type ReaderDirection = (typeof READER_DIRECTIONS)[number];
/** The words for a reader's direction. */
export const READER_DIRECTION_LABELS: Readonly<Record<ReaderDirection, string>> = {
  in: '進校',
  out: '離校',
  both: '進出',
};

/** The dismissal start of a weekday with no setting of the school's own. */
export const DEFAULT_DISMISSAL_START = '11:30';

export interface SwipeInput {
  /** The swipe's id, so a caller can ask "is this swipe the arrival?". */
  id?: number;
  at: Date;
  /** The direction of the reader that took it (default `both`). */
  reader?: ReaderDirection | undefined;
  /** The reader's name (for the day's detail only). */
  readerName?: string | undefined;
}

export interface ManualInput {
  /** The entry's id (for the day's detail only). */
  id?: number | undefined;
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
  /** `HH:mm`: the school's dismissal start on this day's weekday (see school-calendar.ts). */
  dismissalStart: string;
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
  reader: ReaderDirection;
}

function fromSwipe(s: SwipeInput): Candidate {
  return {
    time: taipeiTime(s.at),
    manual: false,
    second: secondOfTaipeiDay(s.at),
    swipeId: s.id,
    rank: 0,
    reader: s.reader ?? 'both',
  };
}

function fromManual(m: ManualInput): Candidate {
  const second = secondOfTime(m.time);
  return { time: m.time, manual: true, second: Math.min(second, DAY_SECONDS - 1), rank: 1, reader: 'both' };
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
  const arrivals = [
    ...swipes.filter((s) => s.reader !== 'out'),
    ...day.manual.filter((m) => m.direction === 'arrival').map(fromManual),
  ].sort(byTime);
  const manualDepartures = day.manual.filter((m) => m.direction === 'departure').map(fromManual);
  const arrival = arrivals[0];
  if (!arrival) {
    // No arrival record at all: only an explicit 補登 of the departure can show (an `out` tap alone is kept and
    // sends nothing: without an arrival nobody can tell a departure from a child who used the wrong gate).
    return { arrival: undefined, departures: manualDepartures.sort(byTime) };
  }
  const threshold = Math.max(arrival.second + o.departureMinMinutes * 60, secondOfTime(o.dismissalStart));
  const departures = [
    ...swipes.filter((s) => s !== arrival && s.second >= arrival.second && countsAsDeparture(s, threshold)),
    ...manualDepartures.filter((m) => m.second >= arrival.second),
  ].sort(byTime);
  return { arrival, departures };
}

function countsAsDeparture(s: Candidate, threshold: number): boolean {
  if (s.reader === 'in') return false;
  if (s.reader === 'out') return true;
  return s.second >= threshold;
}

/** 到校時間 and 離校時間 of one day: the first record, and the first record that counts as a departure. */
export function computeDay(day: DayRecords, o: RuleOptions): DayAttendance {
  const { arrival, departures } = analyse(day, o);
  return { arrival: strip(arrival), departure: strip(departures[0]) };
}

/** What one record of a day is: the arrival, the departure, or a record kept that changes nothing. */
export type RecordRole = 'arrival' | 'departure' | 'kept';

export interface DetailRow {
  time: string;
  manual: boolean;
  swipeId?: number | undefined;
  reader?: ReaderDirection | undefined;
  /** For a manual entry: which it records. */
  entry?: Direction | undefined;
  /** For a manual entry: its id, when the records carried it. */
  entryId?: number | undefined;
  /** For a swipe: the reader's name, when the records carried it. */
  readerName?: string | undefined;
  role: RecordRole;
}

/** Every record of a day in time order, each with its role (the day's detail). */
export function dayDetail(day: DayRecords, o: RuleOptions): DetailRow[] {
  const a = computeDay(day, o);
  const same = (shown: Shown | undefined, c: Candidate, entry?: Direction) =>
    shown !== undefined &&
    shown.manual === c.manual &&
    shown.second === c.second &&
    (c.manual ? entry === (shown === a.arrival ? 'arrival' : 'departure') : shown.swipeId === c.swipeId);
  const rows: (DetailRow & { second: number; rank: number })[] = [];
  let arrivalTaken = false;
  let departureTaken = false;
  for (const s of day.swipes) {
    const c = fromSwipe(s);
    let role: RecordRole = 'kept';
    if (!arrivalTaken && same(a.arrival, c)) {
      role = 'arrival';
      arrivalTaken = true;
    } else if (!departureTaken && same(a.departure, c)) {
      role = 'departure';
      departureTaken = true;
    }
    rows.push({
      time: c.time,
      manual: false,
      swipeId: s.id,
      reader: c.reader,
      readerName: s.readerName,
      role,
      second: c.second,
      rank: 0,
    });
  }
  for (const m of day.manual) {
    const c = fromManual(m);
    let role: RecordRole = 'kept';
    if (!arrivalTaken && m.direction === 'arrival' && same(a.arrival, c, 'arrival')) {
      role = 'arrival';
      arrivalTaken = true;
    } else if (!departureTaken && m.direction === 'departure' && same(a.departure, c, 'departure')) {
      role = 'departure';
      departureTaken = true;
    }
    rows.push({ time: c.time, manual: true, entry: m.direction, entryId: m.id, role, second: c.second, rank: 1 });
  }
  rows.sort((x, y) => x.second - y.second || x.rank - y.rank || (x.swipeId ?? 0) - (y.swipeId ?? 0));
  return rows.map(({ second: _s, rank: _r, ...r }) => r);
}

/**
 * Which notice a swipe triggers, if any: 'arrival' when it is the day's arrival, 'departure' when it is
 * the day's first record that counts as a departure. `day` must already include the swipe.
 */
export function noticeFor(day: DayRecords, swipeId: number, o: RuleOptions): Direction | undefined {
  return noticeOf(computeDay(day, o), swipeId);
}

/** The same question asked of an already computed day. */
export function noticeOf(a: DayAttendance, swipeId: number): Direction | undefined {
  if (a.arrival && !a.arrival.manual && a.arrival.swipeId === swipeId) return 'arrival';
  if (a.departure && !a.departure.manual && a.departure.swipeId === swipeId) return 'departure';
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
export function gridDates(
  from: string,
  to: string,
  holidays: ReadonlySet<string>,
  recordDates: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  let d = from;
  for (let guard = 0; d <= to && guard < 4000; guard++) {
    if (isSchoolDay(d, holidays) || recordDates.has(d)) out.push(d);
    d = addDays(d, 1);
  }
  return out;
}
