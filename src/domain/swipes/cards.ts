/**
 * Student cards with validity dates. A lost card is retired (its last valid day set) and a new one issued,
 * so swipes map to the student through whichever card was valid on the swipe's Taipei date. Card UIDs are
 * kept upper-case, as readers report them in hex.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, SCRIPT_ACTOR, type Actor } from '../audit.js';
import { visibleStudentIds } from '../scope.js';
import { addDays, isValidDate } from '../time.js';

export const CARD_UID_RE = /^[0-9A-Za-z:-]{1,64}$/;

export class CardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CardError';
  }
}

export const normaliseCardUid = (uid: string): string => uid.trim().toUpperCase();

/** The student a card belonged to on a date, or undefined (unknown or retired card). */
export async function studentForCard(
  knex: Knex | Knex.Transaction,
  schoolId: number,
  cardUid: string,
  date: string,
): Promise<number | undefined> {
  const row = await knex('cards as cd')
    .join('students as st', 'st.id', 'cd.student_id')
    .where('cd.card_uid', normaliseCardUid(cardUid))
    .where('st.school_id', schoolId)
    .where('cd.valid_from', '<=', date)
    .where((w) => w.whereNull('cd.valid_until').orWhere('cd.valid_until', '>=', date))
    .orderBy([
      { column: 'cd.valid_from', order: 'desc' },
      { column: 'cd.id', order: 'desc' },
    ])
    .first('cd.student_id');
  return row?.student_id as number | undefined;
}

/**
 * The same question for many swipes at once: `uid|date` → the student whose card it was on that date (the
 * newest card valid then, as `studentForCard` picks it). Unknown or retired cards have no entry. `touch` also
 * records, in the same statement, when the reader was last seen (the reader API's batch: one round trip fewer).
 */
export async function studentsForCards(
  knex: Knex | Knex.Transaction,
  schoolId: number,
  swipes: readonly { uid: string; date: string }[],
  touch?: { readerId: number; at: Date },
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const unique = new Map<string, { uid: string; date: string }>();
  for (const s of swipes) unique.set(`${s.uid}|${s.date}`, s);
  if (unique.size === 0) {
    if (touch) await knex('card_readers').where({ id: touch.readerId }).update({ last_seen_at: touch.at });
    return out;
  }
  const list = [...unique.values()];
  const rows = (
    await knex.raw<{ rows: { uid: string; day: string; student_id: number }[] }>(
      `${touch ? 'with touched as (update card_readers set last_seen_at = ? where id = ? returning 1) ' : ''}
       select distinct on (k.uid, k.day) k.uid, k.day::text as day, cd.student_id
         from unnest(?::text[], ?::date[]) as k(uid, day)
         join cards cd on cd.card_uid = k.uid and cd.valid_from <= k.day and (cd.valid_until is null or cd.valid_until >= k.day)
         join students st on st.id = cd.student_id and st.school_id = ?
        order by k.uid, k.day, cd.valid_from desc, cd.id desc`,
      [
        ...(touch ? [touch.at, touch.readerId] : []),
        list.map((s) => normaliseCardUid(s.uid)),
        list.map((s) => s.date),
        schoolId,
      ] as unknown as readonly Knex.RawBinding[],
    )
  ).rows;
  for (const r of rows) out.set(`${r.uid}|${r.day}`, r.student_id);
  return out;
}

/**
 * Issue a card to a student from `validFrom` on. The student's other open cards end the day before (a card
 * that would then end before it began is removed: it never counted). Refused when the UID is valid for
 * another student on or after `validFrom`. Audited `card.issued` in its transaction (by the school office, or by
 * the system administrator's script when no actor is given).
 */
export async function issueCard(
  knex: Knex,
  o: { studentId: number; cardUid: string; validFrom: string },
  actor: Actor = SCRIPT_ACTOR,
): Promise<{ cardId: number; retired: number }> {
  const uid = normaliseCardUid(o.cardUid);
  if (!CARD_UID_RE.test(uid)) throw new CardError('card UID must be 1-64 letters, digits, ":" or "-"');
  if (!isValidDate(o.validFrom)) throw new CardError('validFrom must be a date YYYY-MM-DD');
  return knex.transaction(async (trx) => {
    const student = await trx('students').where({ id: o.studentId }).forUpdate().first('id', 'school_id');
    if (!student) throw new CardError(`no student with id ${o.studentId}`);
    // A card UID is one physical card: valid for one student at a time across the city. The UID itself is
    // locked for the check, so two issues of one card at once cannot both pass it.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`card:${uid}`]);
    const clash = await trx('cards')
      .where('card_uid', uid)
      .where((w) => w.whereNull('valid_until').orWhere('valid_until', '>=', o.validFrom))
      .first('id', 'student_id');
    if (clash) {
      if (clash.student_id === o.studentId) throw new CardError('the student already holds this card');
      throw new CardError('this card is still valid for another student: retire it first');
    }
    const retired = await closeOpenCards(trx, { studentId: o.studentId }, addDays(o.validFrom, -1));
    const [row] = await trx('cards')
      .insert({ card_uid: uid, student_id: o.studentId, valid_from: o.validFrom, valid_until: null })
      .returning('id');
    await audit(trx, actor, {
      action: 'card.issued',
      schoolId: student.school_id,
      targetType: 'card',
      targetId: row.id,
      details: { studentId: o.studentId },
    });
    return { cardId: row.id as number, retired };
  });
}

async function closeOpenCards(
  trx: Knex.Transaction,
  by: { studentId: number } | { cardId: number },
  last: string,
): Promise<number> {
  const scope = (q: Knex.QueryBuilder) =>
    'studentId' in by ? q.where('student_id', by.studentId) : q.where('id', by.cardId);
  const open = () => scope(trx('cards')).where((w) => w.whereNull('valid_until').orWhere('valid_until', '>', last));
  // A card that would end before it began never counted: remove it.
  const removed = await open().where('valid_from', '>', last).delete();
  const ended = await open().where('valid_from', '<=', last).update({ valid_until: last });
  return removed + ended;
}

export interface CardRow {
  id: number;
  cardUid: string;
  validFrom: string;
  validUntil: string | null;
}

/** The cards of a student of the school (newest first); [] when the student is not of this school. */
export async function cardsOfStudent(knex: Knex, schoolId: number, studentId: number): Promise<CardRow[]> {
  const rows = await knex('cards as cd')
    .join('students as st', 'st.id', 'cd.student_id')
    .where('st.id', studentId)
    .where('st.school_id', schoolId)
    .orderBy([
      { column: 'cd.valid_from', order: 'desc' },
      { column: 'cd.id', order: 'desc' },
    ])
    .select('cd.id', 'cd.card_uid', 'cd.valid_from', 'cd.valid_until');
  return rows.map((r) => ({ id: r.id, cardUid: r.card_uid, validFrom: r.valid_from, validUntil: r.valid_until }));
}

/**
 * Retire one card of the school (of the given student, when one is given: 卡片管理) from `fromDate` on: its last
 * valid day is the day before.
 * Returns false when there is no such open card in the school. Audited `card.retired` in its transaction.
 */
export async function retireSchoolCard(
  knex: Knex,
  actor: Actor,
  o: { schoolId: number; studentId?: number; cardId: number; fromDate: string },
): Promise<boolean> {
  if (!isValidDate(o.fromDate)) throw new CardError('fromDate must be a date YYYY-MM-DD');
  return knex.transaction(async (trx) => {
    const card = await trx('cards as cd')
      .join('students as st', 'st.id', 'cd.student_id')
      .where('cd.id', o.cardId)
      .where('st.school_id', o.schoolId)
      .modify((q) => (o.studentId === undefined ? q : q.where('st.id', o.studentId)))
      .first('cd.id');
    if (!card) return false;
    if ((await closeOpenCards(trx, { cardId: o.cardId }, addDays(o.fromDate, -1))) === 0) return false;
    await audit(trx, actor, {
      action: 'card.retired',
      schoolId: o.schoolId,
      targetType: 'card',
      targetId: o.cardId,
      details: { from: o.fromDate },
    });
    return true;
  });
}

/** A student of the user's school, within their scope, by 學號 (卡片管理's look-up); undefined when none. */
export async function schoolStudentByNumber(
  knex: Knex,
  user: CurrentUser,
  studentNumber: string,
): Promise<{ id: number; name: string; student_number: string; class_name: string } | undefined> {
  return knex('students as st')
    .join('classes as c', 'c.id', 'st.class_id')
    .where('st.school_id', user.schoolId)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .where('st.student_number', studentNumber)
    .first('st.id', 'st.name', 'st.student_number', 'c.name as class_name');
}

/** A student of the school by 學號 (the card:issue command), or undefined. */
export async function studentOfSchool(
  knex: Knex,
  schoolId: number,
  studentNumber: string,
): Promise<{ id: number; name: string } | undefined> {
  return knex('students').where({ school_id: schoolId, student_number: studentNumber }).first('id', 'name');
}

/** An open card (no last valid day yet) of a student of the school, by UID (the card:retire command). */
export async function openCardOfSchool(
  knex: Knex,
  schoolId: number,
  cardUid: string,
): Promise<{ id: number } | undefined> {
  return knex('cards as cd')
    .join('students as st', 'st.id', 'cd.student_id')
    .where({ 'cd.card_uid': normaliseCardUid(cardUid), 'st.school_id': schoolId })
    .whereNull('cd.valid_until')
    .first('cd.id');
}
