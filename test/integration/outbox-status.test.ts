/**
 * The one writer of an SMS's state (src/domain/sms/outbox-status.ts): its bad paths change nothing — a repeated
 * notice is not queued twice, a resend does not reach another school's message, a delivery report does not
 * touch a message that was never sent or another provider's — and every change it makes moves the figures.
 */
import { describe, expect, it } from 'vitest';
import { smsFigures } from '../../src/domain/reports/daily-figures.js';
import { deliveryReported, enqueue, requeueFailed } from '../../src/domain/sms/outbox-status.js';
import { useTestApp } from '../support/app.js';
import { testDb } from '../support/db.js';
import { createSchoolWorld } from '../support/factories.js';
import { createOutbox } from '../support/sms-factories.js';

useTestApp();
const knex = testDb().knex;
const DAY = '2026-11-24';
const at = new Date('2026-11-24T00:42:00Z');
const figures = async (schoolId: number) => (await smsFigures(knex, schoolId, DAY, DAY)).get(DAY);
const statusOf = async (id: number) => (await knex('sms_outbox').where({ id }).first('status'))?.status as string;

describe('outbox-status', () => {
  it('queues a notice once: the same key again writes and counts nothing', async () => {
    const w = await createSchoolWorld(knex);
    const notice = {
      schoolId: w.schoolId,
      studentId: w.student,
      kind: 'arrival' as const,
      phone: '0912345678',
      body: '【臺北市數位學生證】王小明已於08:42到校。',
      dedupeKey: `arrival:${w.student}:${DAY}:0912345678`,
      at,
    };
    expect(await knex.transaction((trx) => enqueue(trx, [notice]))).toHaveLength(1);
    expect(await knex.transaction((trx) => enqueue(trx, [notice]))).toEqual([]);
    expect(await knex('sms_outbox').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(await figures(w.schoolId)).toEqual({ queued: 1, sent: 0, delivered: 0, failed: 0 });
  });

  it('a resend reaches only the school’s own failed messages', async () => {
    const w = await createSchoolWorld(knex);
    const other = await createSchoolWorld(knex, { schoolName: '市立仁愛國小', district: '大安區' });
    const failed = await createOutbox(knex, {
      schoolId: other.schoolId,
      studentId: other.student,
      status: 'failed',
      attempts: 5,
      createdAt: at,
    });
    const before = await figures(other.schoolId);
    const rows = await knex.transaction((trx) => requeueFailed(trx, { schoolId: w.schoolId, id: failed }, at));
    expect(rows).toEqual([]);
    expect(await statusOf(failed)).toBe('failed');
    expect(await figures(other.schoolId)).toEqual(before);
    const mine = await knex.transaction((trx) => requeueFailed(trx, { schoolId: other.schoolId, id: failed }, at));
    expect(mine).toEqual([{ id: failed, attempts: 5 }]);
    expect(await figures(other.schoolId)).toMatchObject({ queued: 1, failed: 0 });
  });

  it('a delivery report changes only a sent message of that provider, and moves its figure', async () => {
    const w = await createSchoolWorld(knex);
    const queued = await createOutbox(knex, { schoolId: w.schoolId, studentId: w.student, createdAt: at });
    const sent = await createOutbox(knex, {
      schoolId: w.schoolId,
      studentId: w.student,
      status: 'sent',
      createdAt: at,
    });
    await knex('sms_outbox').where({ id: queued }).update({ provider: 'mitake', provider_message_id: 'M1' });
    await knex('sms_outbox').where({ id: sent }).update({ provider: 'mitake', provider_message_id: 'M2' });
    const delivered = { delivered: true } as const;
    const report = (id: string, provider = 'mitake') =>
      deliveryReported(knex, { provider, providerMessageId: id, report: delivered, now: at });
    expect(await report('M1')).toBe(0);
    expect(await report('M2', 'every8d')).toBe(0);
    expect(await report('M9')).toBe(0);
    expect([await statusOf(queued), await statusOf(sent)]).toEqual(['queued', 'sent']);
    expect(await figures(w.schoolId)).toEqual({ queued: 1, sent: 1, delivered: 0, failed: 0 });
    expect(await report('M2')).toBe(1);
    expect(await statusOf(sent)).toBe('delivered');
    expect(await figures(w.schoolId)).toEqual({ queued: 1, sent: 0, delivered: 1, failed: 0 });
  });
});
