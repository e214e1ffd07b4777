/** Factories for cards, readers, swipes, manual entries, school holidays and dismissal starts. */
import { SCRIPT_ACTOR } from '../../src/domain/audit.js';
import type { Knex } from 'knex';
import { refreshDays } from '../../src/domain/attendance/days.js';
import type { ReaderDirection } from '../../src/domain/attendance/rules.js';
import { createReader } from '../../src/domain/readers/reader-tokens.js';
import { openCardOfSchool, retireSchoolCard } from '../../src/domain/swipes/cards.js';
import { addHolidayRange } from '../../src/domain/schools/school-calendar.js';
import { taipeiDate } from '../../src/domain/time.js';

export async function createCard(
  knex: Knex,
  studentId: number,
  o: { uid?: string; validFrom?: string; validUntil?: string | null } = {},
): Promise<number> {
  const [row] = await knex('cards')
    .insert({
      student_id: studentId,
      card_uid: (o.uid ?? `CARD${studentId}`).toUpperCase(),
      valid_from: o.validFrom ?? '2026-08-01',
      valid_until: o.validUntil ?? null,
    })
    .returning('id');
  return row.id as number;
}

/** A gate reader (讀卡機) of the school with its API token, as the admin script creates one. */
export async function createReaderToken(
  knex: Knex,
  schoolId: number,
  name = '正門',
  direction: ReaderDirection = 'both',
): Promise<{ readerId: number; token: string }> {
  const { reader, token } = await createReader(knex, { schoolId, name, direction });
  return { readerId: reader.id, token };
}

/** Retire a school's open card by UID from `fromDate` on, as `card:retire` does (its last valid day the day before). */
export async function retireCardFrom(knex: Knex, schoolId: number, uid: string, fromDate: string): Promise<boolean> {
  const open = await openCardOfSchool(knex, schoolId, uid);
  return open ? retireSchoolCard(knex, SCRIPT_ACTOR, { schoolId, cardId: open.id, fromDate }) : false;
}

/** The factories write records directly: keep the computed days (attendance_days) in step, as the app does. */
const DEPARTURE_MIN_MINUTES = 10;

/** A stored swipe (as if a reader had posted it), Taipei wall time `at` = 'YYYY-MM-DDTHH:mm'. */
export async function createSwipe(
  knex: Knex,
  o: {
    readerId: number;
    schoolId: number;
    studentId: number | null;
    at: string;
    cardUid?: string;
    eventId?: string;
    receivedAt?: Date;
  },
): Promise<number> {
  const at = new Date(`${o.at}:00+08:00`);
  const [row] = await knex('swipes')
    .insert({
      reader_id: o.readerId,
      school_id: o.schoolId,
      event_id: o.eventId ?? `ev-${Math.random().toString(36).slice(2)}`,
      card_uid: o.cardUid ?? 'CARD',
      swiped_at: at,
      swipe_date: taipeiDate(at),
      received_at: o.receivedAt ?? at,
      student_id: o.studentId,
      // As the reader API stores it: the reader's direction of now.
      reader_direction: knex('card_readers').where({ id: o.readerId }).select('direction'),
    })
    .returning('id');
  if (o.studentId !== null)
    await refreshDays(knex, [{ studentId: o.studentId, date: taipeiDate(at) }], {
      departureMinMinutes: DEPARTURE_MIN_MINUTES,
    });
  return Number(row.id);
}

export async function createManualEntry(
  knex: Knex,
  o: {
    studentId: number;
    date: string;
    time: string;
    direction: 'arrival' | 'departure';
    reason?: string;
    by?: number | null;
  },
): Promise<number> {
  const [row] = await knex('manual_entries')
    .insert({
      student_id: o.studentId,
      entry_date: o.date,
      entry_time: o.time,
      direction: o.direction,
      reason: o.reason ?? '忘記帶卡',
      entered_by_account_id: o.by ?? null,
    })
    .returning('id');
  await refreshDays(knex, [{ studentId: o.studentId, date: o.date }], { departureMinMinutes: DEPARTURE_MIN_MINUTES });
  return row.id as number;
}

export async function createHoliday(knex: Knex, schoolId: number, on: string, name = '校慶補假'): Promise<void> {
  await addHolidayRange(knex, { schoolIds: [schoolId], from: on, to: on, name }, SCRIPT_ACTOR);
}

/** The school's dismissal start on a weekday (1 = 星期一 … 5 = 星期五), `HH:mm`. */
export async function createDismissalStart(
  knex: Knex,
  schoolId: number,
  weekday: number,
  startsAt: string,
): Promise<void> {
  await knex('school_dismissal_times').insert({ school_id: schoolId, weekday, starts_at: startsAt });
}
