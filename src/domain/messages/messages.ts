/**
 * 訊息發送服務: a teacher (their classes) or a school admin (the school) writes a short message to parents.
 * It goes out through the SMS outbox: one `messages` row and one `sms_outbox` row (kind 'message') per VERIFIED
 * phone of the chosen students, written in one transaction; the dispatcher delivers them.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { enqueue } from '../sms/outbox-status.js';
import { visibleClassIds, visibleStudentIds } from '../scope.js';
import { offsetOf, PAGE_SIZE, pageOf, type Page } from '../paging.js';
import { audit, type Actor } from '../audit.js';

/** One SMS segment in Chinese (UCS-2) holds 70 characters. */
export const MAX_MESSAGE_CHARS = 70;
/** Messages an account may send per hour. */
export const MESSAGES_PER_HOUR = 10;

/** Characters as an SMS counts them: Unicode code points (an emoji is one, not two UTF-16 units). */
export function smsLength(body: string): number {
  return [...body].length;
}

export type Audience =
  | { kind: 'school' }
  | { kind: 'class'; classId: number }
  | { kind: 'students'; classId: number; studentIds: number[] };

export type SendResult =
  | { ok: true; messageId: number; recipients: number; students: number }
  | { ok: false; reason: 'not_found' | 'rate_limited' | 'no_recipients' | 'too_long' | 'empty' };

/** Students of one class in scope, with how many verified phones each has (the sender sees who will get it). */
export async function studentsOfClass(knex: Knex, user: CurrentUser, classId: number) {
  return (await knex('students as st')
    .where('st.class_id', classId)
    .whereIn('st.id', visibleStudentIds(knex, user))
    .whereIn('st.class_id', visibleClassIds(knex, user))
    .select(
      'st.id',
      'st.name',
      'st.seat_number',
      'st.student_number',
      knex.raw(
        '(select count(*) from phones p where p.student_id = st.id and p.verified_at is not null)::int as verified_phones',
      ),
    )
    .orderBy('st.seat_number')) as {
    id: number;
    name: string;
    seat_number: number;
    student_number: string;
    verified_phones: number;
  }[];
}

export async function sentInLastHour(knex: Knex, accountId: number, now: Date): Promise<number> {
  const row = await knex('messages')
    .where('author_account_id', accountId)
    .where('created_at', '>', new Date(now.getTime() - 60 * 60 * 1000))
    .count<{ n: string }[]>({ n: '*' })
    .first();
  return Number(row?.n ?? 0);
}

/**
 * Send a message. Every student is checked against the sender's scope in SQL; if any chosen student or the
 * class is outside it, nothing is written ('not_found'). The rate limit is counted under a per-account lock.
 */
export async function sendMessage(
  knex: Knex,
  user: CurrentUser,
  audience: Audience,
  body: string,
  now: Date,
  actor: Actor,
): Promise<SendResult> {
  if (body.length === 0) return { ok: false, reason: 'empty' };
  if (smsLength(body) > MAX_MESSAGE_CHARS) return { ok: false, reason: 'too_long' };
  if (audience.kind === 'school' && user.role !== 'school_admin') return { ok: false, reason: 'not_found' };
  return knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?, ?)', [6601, user.accountId]);
    if ((await sentInLastHour(trx, user.accountId, now)) >= MESSAGES_PER_HOUR)
      return { ok: false, reason: 'rate_limited' } as const;

    let classId: number | null = null;
    let studentQuery = trx('students as st').whereIn('st.id', visibleStudentIds(trx, user));
    if (audience.kind === 'school') {
      studentQuery = studentQuery.where('st.school_id', user.schoolId);
    } else {
      const cls = await trx('classes as c')
        .where('c.id', audience.classId)
        .whereIn('c.id', visibleClassIds(trx, user))
        .first('c.id');
      if (!cls) return { ok: false, reason: 'not_found' } as const;
      classId = audience.classId;
      studentQuery = studentQuery.where('st.class_id', audience.classId);
      if (audience.kind === 'students') {
        const wanted = [...new Set(audience.studentIds)];
        if (wanted.length === 0) return { ok: false, reason: 'no_recipients' } as const;
        studentQuery = studentQuery.whereIn('st.id', wanted);
        const found = (await studentQuery.clone().pluck('st.id')) as number[];
        if (found.length !== wanted.length) return { ok: false, reason: 'not_found' } as const;
      }
    }
    const recipients = (await studentQuery
      .join('phones as p', 'p.student_id', 'st.id')
      .whereNotNull('p.verified_at')
      .select('st.id as student_id', 'st.school_id', 'p.number')
      .orderBy(['st.id', 'p.id'])) as { student_id: number; school_id: number; number: string }[];
    if (recipients.length === 0) return { ok: false, reason: 'no_recipients' } as const;

    const [msg] = await trx('messages')
      .insert({
        school_id: user.schoolId,
        class_id: classId,
        author_account_id: user.accountId,
        body,
        recipient_count: recipients.length,
        created_at: now,
      })
      .returning('id');
    const messageId = msg.id as number;
    // Queued, and counted in the school's daily SMS figures, in the message's transaction (outbox-status.ts).
    await enqueue(
      trx,
      recipients.map((r) => ({
        schoolId: r.school_id,
        studentId: r.student_id,
        messageId,
        kind: 'message' as const,
        phone: r.number,
        body,
        at: now,
      })),
    );
    const details = {
      audience: audience.kind,
      classId,
      students: new Set(recipients.map((r) => r.student_id)).size,
      recipients: recipients.length,
    };
    await audit(trx, actor, { action: 'message.sent', targetType: 'message', targetId: messageId, details });
    return {
      ok: true,
      messageId,
      recipients: recipients.length,
      students: new Set(recipients.map((r) => r.student_id)).size,
    } as const;
  });
}

/** A message as the pages show it: its text, when, by whom, to which class, to how many. */
const MESSAGE_COLUMNS = [
  'm.id',
  'm.body',
  'm.created_at',
  'a.display_name as author_name',
  'c.name as class_name',
  'm.recipient_count',
];
const withAuthorAndClass = (q: Knex.QueryBuilder) =>
  q.leftJoin('accounts as a', 'a.id', 'm.author_account_id').leftJoin('classes as c', 'c.id', 'm.class_id');

/** The messages this staff member may see: a teacher's own and their classes'; the admin's whole school. */
function staffMessages(knex: Knex, user: CurrentUser) {
  const q = knex('messages as m').where('m.school_id', user.schoolId);
  if (user.role === 'teacher')
    q.where((w) => w.where('m.author_account_id', user.accountId).orWhereIn('m.class_id', visibleClassIds(knex, user)));
  return q;
}

export interface MessageSummary {
  id: number;
  body: string;
  createdAt: Date;
  authorName: string | null;
  className: string | null;
  recipientCount: number;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
}

export async function listSentMessages(knex: Knex, user: CurrentUser, page = 1): Promise<Page<MessageSummary>> {
  const countRow = await staffMessages(knex, user).count<{ n: string }[]>({ n: '*' }).first();
  const total = Number(countRow?.n ?? 0);
  const rows = await withAuthorAndClass(staffMessages(knex, user))
    .select(
      ...MESSAGE_COLUMNS,
      knex.raw(
        `(select count(*) from sms_outbox o where o.message_id = m.id and o.status in ('queued','sending'))::int as queued`,
      ),
      knex.raw(`(select count(*) from sms_outbox o where o.message_id = m.id and o.status = 'sent')::int as sent`),
      knex.raw(
        `(select count(*) from sms_outbox o where o.message_id = m.id and o.status = 'delivered')::int as delivered`,
      ),
      knex.raw(`(select count(*) from sms_outbox o where o.message_id = m.id and o.status = 'failed')::int as failed`),
    )
    .orderBy([
      { column: 'm.created_at', order: 'desc' },
      { column: 'm.id', order: 'desc' },
    ])
    .limit(PAGE_SIZE)
    .offset(offsetOf(page));
  const list: MessageSummary[] = rows.map((r: Record<string, unknown>) => ({
    id: r.id as number,
    body: r.body as string,
    createdAt: r.created_at as Date,
    authorName: (r.author_name as string | null) ?? null,
    className: (r.class_name as string | null) ?? null,
    recipientCount: r.recipient_count as number,
    queued: r.queued as number,
    sent: r.sent as number,
    delivered: r.delivered as number,
    failed: r.failed as number,
  }));
  return pageOf(list, total, page);
}

/** One message with its recipients (masked in the view), for staff in scope; undefined when not theirs. */
export async function findSentMessage(knex: Knex, user: CurrentUser, messageId: number) {
  const m = await withAuthorAndClass(staffMessages(knex, user))
    .where('m.id', messageId)
    .first(...MESSAGE_COLUMNS);
  if (!m) return undefined;
  const recipients = (await knex('sms_outbox as o')
    .leftJoin('students as st', 'st.id', 'o.student_id')
    .leftJoin('classes as c', 'c.id', 'st.class_id')
    .where('o.message_id', messageId)
    .select(
      'o.id',
      'o.phone',
      'o.status',
      'o.attempts',
      'o.sent_at',
      'o.delivered_at',
      'o.failure_code',
      'st.name as student_name',
      'st.seat_number',
      'c.name as class_name',
    )
    .orderBy(['c.code', 'st.seat_number', 'o.id'])) as {
    id: number;
    phone: string;
    status: string;
    attempts: number;
    sent_at: Date | null;
    delivered_at: Date | null;
    failure_code: string | null;
    student_name: string | null;
    seat_number: number | null;
    class_name: string | null;
  }[];
  return {
    id: m.id as number,
    body: m.body as string,
    createdAt: m.created_at as Date,
    authorName: (m.author_name as string | null) ?? null,
    className: (m.class_name as string | null) ?? null,
    recipientCount: m.recipient_count as number,
    recipients,
  };
}

/** A parent's read-only list: the messages sent to the phones of their children. */
export async function messagesForParent(knex: Knex, user: CurrentUser, page = 1) {
  const base = () =>
    knex('messages as m').whereExists(
      knex('sms_outbox as o').whereRaw('o.message_id = m.id').whereIn('o.student_id', visibleStudentIds(knex, user)),
    );
  const countRow = await base().count<{ n: string }[]>({ n: '*' }).first();
  const total = Number(countRow?.n ?? 0);
  const rows = (await base()
    .join('schools as sc', 'sc.id', 'm.school_id')
    .leftJoin('accounts as a', 'a.id', 'm.author_account_id')
    .select('m.id', 'm.body', 'm.created_at', 'sc.name as school_name', 'a.display_name as author_name')
    .orderBy([
      { column: 'm.created_at', order: 'desc' },
      { column: 'm.id', order: 'desc' },
    ])
    .limit(PAGE_SIZE)
    .offset(offsetOf(page))) as {
    id: number;
    body: string;
    created_at: Date;
    school_name: string;
    author_name: string | null;
  }[];
  return pageOf(rows, total, page);
}
