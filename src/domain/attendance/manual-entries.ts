/**
 * 補登: staff record an arrival or departure time with a reason. The entry is written only for a student in
 * the caller's scope (the scope is in the INSERT's SELECT), and it never sends an SMS.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleStudentIds } from '../scope.js';
import { audit, type Actor, type AuditAction } from '../audit.js';
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
  actor: Actor,
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
    if (id !== undefined) {
      await refreshDays(knex, [{ studentId: e.studentId, date: e.date }], o);
      await audit(knex, actor, {
        action: 'attendance.manual_entry',
        targetType: 'student',
        targetId: e.studentId,
        details: { entryId: id, date: e.date, time: e.time, direction: e.direction },
      });
    }
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
  /** Who last corrected it, if anyone. */
  updatedBy: string | null;
  updatedAt: Date | null;
}

/** The columns of a listed entry (with `accounts as a` for who entered it, `accounts as u` for who changed it). */
const ENTRY_COLUMNS = [
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
  'u.display_name as updated_by',
  'me.updated_at',
] as const;

interface EntryRecord {
  id: number;
  student_id: number;
  student_name: string;
  seat_number: number;
  entry_date: string;
  direction: Direction;
  entry_time: string;
  reason: string;
  entered_by: string | null;
  created_at: Date;
  updated_by: string | null;
  updated_at: Date | null;
}

function entryOf(r: EntryRecord): ManualEntryRow {
  return {
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
    updatedBy: r.updated_by,
    updatedAt: r.updated_at,
  };
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
    .leftJoin('accounts as u', 'u.id', 'me.updated_by_account_id')
    .where('st.class_id', classId)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .whereBetween('me.entry_date', [from, to])
    .orderBy([
      { column: 'me.entry_date' },
      { column: 'st.seat_number' },
      { column: 'me.entry_time' },
      { column: 'me.id' },
    ])
    .select(...ENTRY_COLUMNS);
  return rows.map(entryOf);
}

/** One manual entry with its student and class, if the user may see it (scope in the WHERE); undefined = 404. */
export async function visibleManualEntry(
  knex: Knex | Knex.Transaction,
  user: CurrentUser,
  entryId: number,
  o: { forUpdate?: boolean } = {},
): Promise<(ManualEntryRow & { classId: number; className: string }) | undefined> {
  if (user.role === 'parent') return undefined;
  const q = knex('manual_entries as me')
    .join('students as st', 'st.id', 'me.student_id')
    .join('classes as c', 'c.id', 'st.class_id')
    .leftJoin('accounts as a', 'a.id', 'me.entered_by_account_id')
    .leftJoin('accounts as u', 'u.id', 'me.updated_by_account_id')
    .where('me.id', entryId)
    .where('st.school_id', user.schoolId)
    .whereIn('st.id', visibleStudentIds(knex as Knex, user))
    .first(...ENTRY_COLUMNS, 'st.class_id', 'c.name as class_name');
  if (o.forUpdate) q.forUpdate('me');
  const r = await q;
  if (!r) return undefined;
  return { ...entryOf(r), classId: r.class_id, className: r.class_name };
}

type VisibleEntry = NonNullable<Awaited<ReturnType<typeof visibleManualEntry>>>;

/**
 * The one way a 補登 changes: in one transaction the entry the user may see (the teacher's own class, the
 * admin's school — scope in the WHERE) is locked, changed by `apply`, the student's day recomputed, and the
 * audit row that `apply` describes written. Undefined = 404.
 */
async function changeManualEntry<T>(
  db: Knex,
  user: CurrentUser,
  entryId: number,
  o: { departureMinMinutes: number },
  actor: Actor,
  apply: (
    trx: Knex.Transaction,
    old: VisibleEntry,
  ) => Promise<{ result: T; action: AuditAction; details: Record<string, unknown> }>,
): Promise<T | undefined> {
  if (user.role === 'parent') return undefined;
  return db.transaction(async (trx) => {
    const old = await visibleManualEntry(trx, user, entryId, { forUpdate: true });
    if (!old) return undefined;
    const { result, action, details } = await apply(trx, old);
    await refreshDays(trx, [{ studentId: old.studentId, date: old.date }], o);
    await audit(trx, actor, {
      action,
      targetType: 'manual_entry',
      targetId: entryId,
      details: { studentId: old.studentId, date: old.date, ...details },
    });
    return result;
  });
}

/** Correct a 補登 (its time and direction), with a reason; the audit row keeps the old and new values. */
export function correctManualEntry(
  db: Knex,
  user: CurrentUser,
  entryId: number,
  c: { time: string; direction: Direction; reason: string },
  o: { departureMinMinutes: number },
  actor: Actor,
): Promise<ManualEntryRow | undefined> {
  return changeManualEntry(db, user, entryId, o, actor, async (trx, old) => {
    await trx('manual_entries').where({ id: entryId }).update({
      entry_time: c.time,
      direction: c.direction,
      updated_by_account_id: user.accountId,
      updated_at: trx.fn.now(),
    });
    return {
      result: { ...old, time: c.time, direction: c.direction },
      action: 'attendance.manual_entry_corrected',
      details: {
        old: { time: old.time, direction: old.direction },
        new: { time: c.time, direction: c.direction },
        reason: c.reason,
      },
    };
  });
}

/**
 * Delete a 補登, with a reason (a day left with no record leaves the stored days); the audit row keeps what
 * was deleted.
 */
export function deleteManualEntry(
  db: Knex,
  user: CurrentUser,
  entryId: number,
  reason: string,
  o: { departureMinMinutes: number },
  actor: Actor,
): Promise<ManualEntryRow | undefined> {
  return changeManualEntry(db, user, entryId, o, actor, async (trx, old) => {
    await trx('manual_entries').where({ id: entryId }).del();
    return {
      result: old,
      action: 'attendance.manual_entry_deleted',
      details: {
        old: { time: old.time, direction: old.direction, reason: old.reason, enteredBy: old.enteredBy },
        reason,
      },
    };
  });
}
