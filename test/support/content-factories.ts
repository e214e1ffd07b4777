/** Factories for announcements, messages, reports. */
import { refreshDays } from '../../src/domain/attendance/days.js';
import { countSmsChanges } from '../../src/domain/reports/daily-figures.js';
import type { Knex } from 'knex';

export async function createAnnouncement(
  knex: Knex,
  o: {
    schoolId?: number | null;
    title?: string;
    body?: string;
    pinned?: boolean;
    publishedAt?: string;
    withdrawnAt?: string | null;
  } = {},
): Promise<number> {
  const [row] = await knex('announcements')
    .insert({
      school_id: o.schoolId ?? null,
      title: o.title ?? '公告',
      body: o.body ?? '內容',
      pinned: o.pinned ?? false,
      author_name: '測試',
      published_at: o.publishedAt ?? '2026-11-20T01:00:00Z',
      withdrawn_at: o.withdrawnAt ?? null,
    })
    .returning('id');
  return row.id as number;
}

export async function createPhone(knex: Knex, studentId: number, number: string, verified = true): Promise<number> {
  const [row] = await knex('phones')
    .insert({ student_id: studentId, number, verified_at: verified ? '2026-11-01T01:00:00Z' : null })
    .returning('id');
  return row.id as number;
}

export async function createOutbox(
  knex: Knex,
  o: { schoolId: number; studentId: number; status: string; createdAt: string; kind?: string; phone?: string },
): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('sms_outbox').insert({
      school_id: o.schoolId,
      student_id: o.studentId,
      kind: o.kind ?? 'arrival',
      phone: o.phone ?? '0912345678',
      body: '測試',
      status: o.status,
      created_at: o.createdAt,
    });
    // Counted in the school's daily figures, as every outbox writer does.
    await countSmsChanges(trx, [
      { schoolId: o.schoolId, studentId: o.studentId, createdAt: o.createdAt, from: null, to: o.status },
    ]);
  });
}

let readerSeq = 0;
export async function createReaderRow(knex: Knex, schoolId: number): Promise<number> {
  readerSeq++;
  const [row] = await knex('card_readers')
    .insert({
      school_id: schoolId,
      name: `門口${readerSeq}`,
      token_hash: `hash-${readerSeq}-${Date.now()}`,
      token_prefix: 'abcdefgh',
    })
    .returning('id');
  return row.id as number;
}

let eventSeq = 0;
export async function createSwipe(
  knex: Knex,
  readerId: number,
  schoolId: number,
  studentId: number,
  at: string,
): Promise<void> {
  eventSeq++;
  const date = new Date(Date.parse(at) + 8 * 3600_000).toISOString().slice(0, 10);
  await knex('swipes').insert({
    reader_id: readerId,
    school_id: schoolId,
    event_id: `e${eventSeq}`,
    card_uid: 'CARD1',
    swiped_at: at,
    swipe_date: date,
    received_at: at,
    student_id: studentId,
  });
  await refreshDays(knex, [{ studentId, date }], { departureMinMinutes: 10 });
}

export async function createRequest(
  knex: Knex,
  subscriptionId: number,
  o: {
    kind: 'order' | 'cancellation';
    status?: string;
    requestedOn: string;
    effectiveOn?: string | null;
    refund?: number | null;
    refundPaidOn?: string | null;
    reason?: string;
  },
): Promise<number> {
  const [row] = await knex('review_requests')
    .insert({
      subscription_id: subscriptionId,
      kind: o.kind,
      status: o.status ?? 'pending',
      requested_by_name: '王家長',
      requested_on: o.requestedOn,
      effective_on: o.effectiveOn ?? null,
      refund_amount: o.refund ?? null,
      refund_paid_on: o.refundPaidOn ?? null,
      decision_reason: o.reason ?? null,
    })
    .returning('id');
  return row.id as number;
}
