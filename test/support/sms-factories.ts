/** Factories for registered phones and SMS outbox rows. */
import type { Knex } from 'knex';
import { countSmsChanges } from '../../src/domain/reports/daily-figures.js';

export async function createPhone(
  knex: Knex,
  studentId: number,
  o: { number?: string; verified?: boolean; registeredBy?: number | null } = {},
): Promise<number> {
  const [row] = await knex('phones')
    .insert({
      student_id: studentId,
      number: o.number ?? '0912345678',
      verified_at: o.verified === false ? null : new Date('2026-09-01T00:00:00Z'),
      registered_by_account_id: o.registeredBy ?? null,
    })
    .returning('id');
  return row.id as number;
}

export async function createOutbox(
  knex: Knex,
  o: {
    schoolId?: number | null;
    studentId?: number | null;
    kind?: string;
    phone?: string;
    body?: string;
    status?: string;
    attempts?: number;
    nextAttemptAt?: Date;
    createdAt?: Date | string;
    dedupeKey?: string | null;
  } = {},
): Promise<number> {
  const row = await knex.transaction(async (trx) => {
    const [r] = (await trx('sms_outbox')
      .insert({
        school_id: o.schoolId ?? null,
        student_id: o.studentId ?? null,
        kind: o.kind ?? 'arrival',
        phone: o.phone ?? '0912345678',
        body: o.body ?? '【臺北市數位學生證】王小明已於07:42到校。',
        status: o.status ?? 'queued',
        attempts: o.attempts ?? 0,
        next_attempt_at: o.nextAttemptAt ?? new Date('2026-11-24T00:00:00Z'),
        created_at: o.createdAt ?? new Date('2026-11-24T00:00:00Z'),
        dedupe_key: o.dedupeKey ?? null,
      })
      .returning(['id', 'school_id', 'student_id', 'created_at', 'status'])) as {
      id: number;
      school_id: number | null;
      student_id: number | null;
      created_at: Date;
      status: string;
    }[];
    // Counted in the school's daily figures, as every outbox writer does.
    await countSmsChanges(trx, [
      { schoolId: r!.school_id, studentId: r!.student_id, createdAt: r!.created_at, from: null, to: r!.status },
    ]);
    return r!;
  });
  return Number(row.id);
}
