/** The SMS log (簡訊發送紀錄): outbox rows in the user's scope, filtered by day, class and status. */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleClassIds, visibleStudentIds } from '../scope.js';
import { addDays, startOfTaipeiDay } from '../time.js';

/** The SMS states in the words every page uses (簡訊發送紀錄, 訊息發送服務, 統計報表). */
export const SMS_STATUS_LABELS: Record<string, string> = {
  queued: '待發送',
  sending: '發送中',
  sent: '已發送',
  delivered: '已送達',
  failed: '發送失敗',
};

export const SMS_KIND_LABELS: Record<string, string> = {
  arrival: '到校通知',
  departure: '離校通知',
  verification: '手機驗證碼',
  message: '訊息發送',
};

export const LOG_PAGE_SIZE = 50;

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
  lastError: string | null;
}

/** A verification message's code is not for staff eyes: shown as ******. */
export function bodyForStaff(kind: string, body: string): string {
  return kind === 'verification' ? body.replace(/\d{6}/g, '******') : body;
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
): Promise<{ rows: SmsLogRow[]; total: number; page: number; from: number; to: number; lastPage: number; counts: Record<string, number> }> {
  const countRow = await scoped(knex, user, f).count({ n: '*' }).first();
  const total = Number(countRow?.n ?? 0);
  const lastPage = Math.max(1, Math.ceil(total / LOG_PAGE_SIZE));
  const page = Math.min(Math.max(1, f.page), lastPage);
  const raw = await scoped(knex, user, f)
    .orderBy('o.created_at', 'desc')
    .orderBy('o.id', 'desc')
    .limit(LOG_PAGE_SIZE)
    .offset((page - 1) * LOG_PAGE_SIZE)
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
      'o.last_error',
    );
  const byStatus = await scoped(knex, user, { date: f.date, classId: f.classId })
    .select('o.status')
    .count({ n: '*' })
    .groupBy('o.status');
  const counts: Record<string, number> = Object.fromEntries(Object.keys(SMS_STATUS_LABELS).map((s) => [s, 0]));
  for (const r of byStatus as { status: string; n: number | string }[]) counts[r.status] = Number(r.n);
  const rows: SmsLogRow[] = (raw as Record<string, any>[]).map((r) => ({
    id: Number(r.id),
    createdAt: r.created_at,
    className: r.class_name ?? null,
    studentName: r.student_name ?? null,
    kind: r.kind,
    phone: r.phone,
    body: bodyForStaff(r.kind, r.body),
    status: r.status,
    attempts: r.attempts,
    sentAt: r.sent_at ?? null,
    deliveredAt: r.delivered_at ?? null,
    lastError: r.last_error ?? null,
  }));
  const fromN = total === 0 ? 0 : (page - 1) * LOG_PAGE_SIZE + 1;
  return { rows, total, page, from: fromN, to: fromN === 0 ? 0 : fromN + rows.length - 1, lastPage, counts };
}
