/**
 * Unmatched swipes (unknown or retired card): listed for the school admin, who assigns each to a student of
 * the school or marks it ignored. Resolving never sends an SMS (it is a late record by definition).
 * Every query carries the admin's school in its WHERE.
 */
import { refreshDays } from '../attendance/days.js';
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { emptyPage, offsetOf, PAGE_SIZE, pageOf, type Page } from '../paging.js';

export interface UnmatchedSwipe {
  id: number;
  readerName: string;
  cardUid: string;
  swipedAt: Date;
  swipeDate: string;
  receivedAt: Date;
}

export async function listUnmatched(knex: Knex, user: CurrentUser, page = 1): Promise<Page<UnmatchedSwipe>> {
  if (user.role !== 'school_admin') return emptyPage();
  const base = () =>
    knex('swipes as sw').where('sw.school_id', user.schoolId).whereNull('sw.student_id').whereNull('sw.resolved_at');
  const [{ n }] = (await base().count({ n: '*' })) as [{ n: string | number }];
  const rows = await base()
    .join('card_readers as r', 'r.id', 'sw.reader_id')
    .orderBy([
      { column: 'sw.swiped_at', order: 'desc' },
      { column: 'sw.id', order: 'desc' },
    ])
    .limit(PAGE_SIZE)
    .offset(offsetOf(page))
    .select('sw.id', 'r.name as reader_name', 'sw.card_uid', 'sw.swiped_at', 'sw.swipe_date', 'sw.received_at');
  return pageOf(
    rows.map((r) => ({
      id: Number(r.id),
      readerName: r.reader_name,
      cardUid: r.card_uid,
      swipedAt: r.swiped_at,
      swipeDate: r.swipe_date,
      receivedAt: r.received_at,
    })),
    Number(n),
    page,
  );
}

export type Resolution = { kind: 'assign'; studentNumber: string } | { kind: 'ignore' };

export type ResolveOutcome = 'assigned' | 'ignored' | 'not_found' | 'no_such_student';

/**
 * Resolve one unmatched swipe of the admin's school: one conditional UPDATE (still unmatched, same school),
 * the student looked up by 學號 within the same school; audited (`swipe.assign` / `swipe.ignore`) in its transaction.
 */
export async function resolveUnmatched(
  knex: Knex,
  actor: Actor,
  user: CurrentUser,
  swipeId: number,
  r: Resolution,
  now: Date,
  o: { departureMinMinutes: number },
): Promise<{ outcome: ResolveOutcome; studentId?: number }> {
  if (user.role !== 'school_admin') return { outcome: 'not_found' };
  return knex.transaction(async (trx) => {
    const swipe = await trx('swipes')
      .where({ id: swipeId, school_id: user.schoolId })
      .whereNull('student_id')
      .whereNull('resolved_at')
      .first('id', 'swipe_date');
    if (!swipe) return { outcome: 'not_found' as const };
    let studentId: number | null = null;
    if (r.kind === 'assign') {
      const st = await trx('students').where({ school_id: user.schoolId, student_number: r.studentNumber }).first('id');
      if (!st) return { outcome: 'no_such_student' as const };
      studentId = st.id as number;
    }
    const n = await trx('swipes')
      .where({ id: swipeId, school_id: user.schoolId })
      .whereNull('student_id')
      .whereNull('resolved_at')
      .update({ student_id: studentId, resolved_at: now, resolved_by_account_id: user.accountId });
    if (n === 0) return { outcome: 'not_found' as const };
    // The swipe is now one of the student's records of that day (it sends no SMS: it arrived too late for one).
    if (studentId !== null) await refreshDays(trx, [{ studentId, date: swipe.swipe_date as string }], o);
    await audit(trx, actor, {
      action: studentId === null ? 'swipe.ignore' : 'swipe.assign',
      targetType: 'swipe',
      targetId: swipeId,
      details: studentId === null ? {} : { studentId },
    });
    return studentId === null ? { outcome: 'ignored' as const } : { outcome: 'assigned' as const, studentId };
  });
}
