/** The SMS log (簡訊發送紀錄): outbox rows in the user's scope, filtered by day, class and status. */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleClassIds, visibleStudentIds } from '../scope.js';
import { addDays, startOfTaipeiDay } from '../time.js';
import { SMS_STATUS_LABELS } from './sms-words.js';
import { offsetOf, PAGE_SIZE, pageOf, type Page } from '../paging.js';

export interface SmsLogFilter {
  date: string;
  classId?: number | undefined;
  status?: string | undefined;
  page: number;
}

export interface SmsLogRow {
  id: number;
  createdAt: Date;
  className: string | null;
  studentName: string | null;
  kind: string;
  phone: string;
  body: string;
  status: string;
  attempts: number;
  sentAt: Date | null;
  deliveredAt: Date | null;
  /** Why it failed (sms-words.ts), for a failed message or one waiting to be retried. */
  failureCode: string | null;
}

/** A row of the log's query, as PostgreSQL returns it. */
interface RawLogRow {
  id: string | number;
  created_at: Date;
  class_name: string | null;
  student_name: string | null;
  kind: string;
  phone: string;
  body: string;
  status: string;
  attempts: number;
  sent_at: Date | null;
  delivered_at: Date | null;
  failure_code: string | null;
}

/**
 * A verification message's code is not for staff eyes: shown as ******, except with the development log
 * provider outside production (`showCodes`, providers/index.ts showsVerificationCodes), where no phone gets
 * it and the person trying the demo reads it here.
 */
export function bodyForStaff(kind: string, body: string, showCodes = false): string {
  return kind === 'verification' && !showCodes ? body.replace(/\d{6}/g, '******') : body;
}

function scoped(knex: Knex, user: CurrentUser, f: Omit<SmsLogFilter, 'page'>): Knex.QueryBuilder {
  const from = startOfTaipeiDay(f.date);
  const to = startOfTaipeiDay(addDays(f.date, 1));
  // One school's day through the (school_id, created_at) index; its students through (school_id, …). The
  // role's scope below still decides which of those rows this user sees.
  const q = knex('sms_outbox as o')
    .leftJoin('students as st', function () {
      this.on('st.id', 'o.student_id').andOnVal('st.school_id', user.schoolId);
    })
    .leftJoin('messages as m', 'm.id', 'o.message_id')
    .leftJoin('classes as c', 'c.id', knex.raw('coalesce(st.class_id, m.class_id)'))
    .where('o.created_at', '>=', from)
    .where('o.created_at', '<', to)
    .where('o.school_id', user.schoolId);
  if (user.role === 'school_admin') {
    // the school is the scope
  } else if (user.role === 'teacher') {
    q.where((w) =>
      w
        .whereIn('o.student_id', visibleStudentIds(knex, user))
        .orWhere((x) => x.whereNull('o.student_id').whereIn('m.class_id', visibleClassIds(knex, user))),
    );
  } else {
    q.whereRaw('false');
  }
  if (f.classId !== undefined) q.where('c.id', f.classId).whereIn('c.id', visibleClassIds(knex, user));
  if (f.status !== undefined) q.where('o.status', f.status);
  return q;
}

export async function listSmsLog(
  knex: Knex,
  user: CurrentUser,
  f: SmsLogFilter,
  o: { showCodes?: boolean } = {},
): Promise<Page<SmsLogRow> & { counts: Record<string, number> }> {
  const countRow = await scoped(knex, user, f).count({ n: '*' }).first();
  const total = Number(countRow?.n ?? 0);
  const raw = await scoped(knex, user, f)
    .orderBy('o.created_at', 'desc')
    .orderBy('o.id', 'desc')
    .limit(PAGE_SIZE)
    .offset(offsetOf(f.page))
    .select(
      'o.id',
      'o.created_at',
      'c.name as class_name',
      'st.name as student_name',
      'o.kind',
      'o.phone',
      'o.body',
      'o.status',
      'o.attempts',
      'o.sent_at',
      'o.delivered_at',
      'o.failure_code',
    );
  const byStatus = await scoped(knex, user, { date: f.date, classId: f.classId })
    .select('o.status')
    .count({ n: '*' })
    .groupBy('o.status');
  const counts: Record<string, number> = Object.fromEntries(Object.keys(SMS_STATUS_LABELS).map((s) => [s, 0]));
  for (const r of byStatus as { status: string; n: number | string }[]) counts[r.status] = Number(r.n);
  const rows: SmsLogRow[] = (raw as RawLogRow[]).map((r) => ({
    id: Number(r.id),
    createdAt: r.created_at,
    className: r.class_name ?? null,
    studentName: r.student_name ?? null,
    kind: r.kind,
    phone: r.phone,
    body: bodyForStaff(r.kind, r.body, o.showCodes),
    status: r.status,
    attempts: r.attempts,
    sentAt: r.sent_at ?? null,
    deliveredAt: r.delivered_at ?? null,
    failureCode: r.failure_code ?? null,
  }));
  return { ...pageOf(rows, total, f.page), counts };
}
