/**
 * 補登: staff record an arrival or departure time with a reason. The entry is written only for a student in
 * the caller's scope (the scope is in the INSERT's SELECT), and it never sends an SMS.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleStudentIds } from '../scope.js';
import { refreshDays } from './days.js';
import type { Direction } from './rules.js';

export interface ManualEntryInput {
  studentId: number;
  date: string;
  time: string;
  direction: Direction;
  reason: string;
  /** When given, the student must also be in this class. */
  classId?: number | undefined;
}

/**
 * Insert the entry if the student is visible to `user` (a staff member), and recompute the student's day in the
 * same transaction. Returns the new id, or undefined (→ 404).
 */
export async function addManualEntry(
  db: Knex,
  user: CurrentUser,
  e: ManualEntryInput,
  o: { departureMinMinutes: number },
): Promise<number | undefined> {
  if (user.role === 'parent') return undefined;
  return db.transaction(async (knex) => {
  const source = knex('students as st')
    .where('st.id', e.studentId)
    .where('st.school_id', user.schoolId)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .modify((q) => {
      if (e.classId !== undefined) q.where('st.class_id', e.classId);
    })
    .select(
      'st.id',
      knex.raw('?::date', [e.date]),
      knex.raw('?::text', [e.direction]),
      knex.raw('?::text', [e.time]),
      knex.raw('?::text', [e.reason]),
      knex.raw('?::int', [user.accountId]),
    )
    .toSQL();
  const result = await knex.raw(
    `insert into manual_entries (student_id, entry_date, direction, entry_time, reason, entered_by_account_id) ${source.sql} returning id`,
    source.bindings as readonly Knex.RawBinding[],
  );
  const rows = (result as { rows: { id: number }[] }).rows;
  const id = rows[0]?.id;
  if (id !== undefined) await refreshDays(knex, [{ studentId: e.studentId, date: e.date }], o);
  return id;
  });
}

export interface ManualEntryRow {
  id: number;
  studentId: number;
  studentName: string;
  seat: number;
  date: string;
  direction: Direction;
  time: string;
  reason: string;
  enteredBy: string | null;
  createdAt: Date;
}

/** The manual entries of a class over dates, within the caller's scope. */
export async function manualEntriesOfClass(
  knex: Knex,
  user: CurrentUser,
  classId: number,
  from: string,
  to: string,
): Promise<ManualEntryRow[]> {
  const rows = await knex('manual_entries as me')
    .join('students as st', 'st.id', 'me.student_id')
    .leftJoin('accounts as a', 'a.id', 'me.entered_by_account_id')
    .where('st.class_id', classId)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .whereBetween('me.entry_date', [from, to])
    .orderBy([{ column: 'me.entry_date' }, { column: 'st.seat_number' }, { column: 'me.entry_time' }, { column: 'me.id' }])
    .select(
      'me.id',
      'me.student_id',
      'st.name as student_name',
      'st.seat_number',
      'me.entry_date',
      'me.direction',
      'me.entry_time',
      'me.reason',
      'a.display_name as entered_by',
      'me.created_at',
    );
  return rows.map((r) => ({
    id: r.id,
    studentId: r.student_id,
    studentName: r.student_name,
    seat: r.seat_number,
    date: r.entry_date,
    direction: r.direction,
    time: r.entry_time,
    reason: r.reason,
    enteredBy: r.entered_by,
    createdAt: r.created_at,
  }));
}
