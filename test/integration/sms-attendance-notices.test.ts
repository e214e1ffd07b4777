import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { attendanceNoticeBody, enqueueAttendanceNotices } from '../../src/domain/sms/attendance-notices.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';

const knex = testDb().knex;
afterAll(() => closeTestDb());
beforeEach(() => resetDb());

async function world() {
  const w = await createSchoolWorld(knex);
  const period = await createPeriod(knex, w.schoolId, { startsOn: '2026-08-31', endsOn: '2027-01-20' });
  return { ...w, period };
}

describe('attendance notice body', () => {
  it('reads as the guide shows it', () => {
    expect(attendanceNoticeBody('王小明', 'arrival', '07:42')).toBe('【臺北市數位學生證】王小明已於07:42到校。');
    expect(attendanceNoticeBody('王小明', 'departure', '16:05')).toBe('【臺北市數位學生證】王小明已於16:05離校。');
  });
  it('shortens a very long name to fit 70 characters without splitting a character', () => {
    const long = '𠀋'.repeat(100);
    const body = attendanceNoticeBody(long, 'arrival', '07:42');
    expect(Array.from(body).length).toBe(70);
    expect(body.startsWith('【臺北市數位學生證】𠀋')).toBe(true);
    expect(body.endsWith('…已於07:42到校。')).toBe(true);
    expect(body.includes('\uFFFD')).toBe(false);
  });
});

describe('enqueueAttendanceNotices', () => {
  it('writes one row per verified phone when the subscription is effective and includes the item', async () => {
    const w = await world();
    await createSubscription(knex, w.student, w.period, { effectiveOn: '2026-09-02', arrival: true, departure: false });
    await createPhone(knex, w.student, { number: '0912345678' });
    await createPhone(knex, w.student, { number: '0922333444' });
    await createPhone(knex, w.student, { number: '0933000111', verified: false });

    const n = await knex.transaction((trx) =>
      enqueueAttendanceNotices(trx, { studentId: w.student, direction: 'arrival', date: '2026-11-24', time: '07:42' }),
    );
    expect(n).toBe(2);
    const rows = await knex('sms_outbox').orderBy('id');
    expect(rows.map((r) => r.phone)).toEqual(['0912345678', '0922333444']);
    expect(rows[0]).toMatchObject({
      kind: 'arrival',
      school_id: w.schoolId,
      student_id: w.student,
      status: 'queued',
      body: '【臺北市數位學生證】王小明已於07:42到校。',
      dedupe_key: `arrival:${w.student}:2026-11-24:0912345678`,
    });

    // Not the other item; and a repeat writes nothing more.
    expect(
      await enqueueAttendanceNotices(knex, {
        studentId: w.student,
        direction: 'departure',
        date: '2026-11-24',
        time: '16:05',
      }),
    ).toBe(0);
    expect(
      await enqueueAttendanceNotices(knex, {
        studentId: w.student,
        direction: 'arrival',
        date: '2026-11-24',
        time: '07:50',
      }),
    ).toBe(0);
    expect(await knex('sms_outbox').count({ n: '*' }).first()).toEqual({ n: 2 });
  });

  it('follows the lifecycle contract: effective_on, cancelled_on, the period and the status', async () => {
    const w = await world();
    await createPhone(knex, w.student);
    const sub = await createSubscription(knex, w.student, w.period, {
      status: 'cancelled',
      effectiveOn: '2026-09-02',
      cancelledOn: '2026-11-25',
    });
    const send = (date: string) =>
      enqueueAttendanceNotices(knex, { studentId: w.student, direction: 'arrival', date, time: '07:40' });
    expect(await send('2026-09-01')).toBe(0); // before effective_on
    expect(await send('2026-09-02')).toBe(1);
    expect(await send('2026-11-24')).toBe(1); // the day the cancellation is approved: still sent
    expect(await send('2026-11-25')).toBe(0); // the day after: not
    await knex('subscriptions').where({ id: sub }).update({ status: 'pending', cancelled_on: null });
    expect(await send('2026-11-26')).toBe(0);
    await knex('subscriptions').where({ id: sub }).update({ status: 'cancel_pending' });
    expect(await send('2026-11-26')).toBe(1);
    expect(await send('2027-01-21')).toBe(0); // after the period
  });

  it('writes nothing for a student without phones, without a subscription, or for another student', async () => {
    const w = await world();
    const other = await createStudent(knex, w.class401, { name: '李小華' });
    await createPhone(knex, other);
    await createSubscription(knex, w.student, w.period);
    expect(
      await enqueueAttendanceNotices(knex, {
        studentId: w.student,
        direction: 'arrival',
        date: '2026-11-24',
        time: '07:40',
      }),
    ).toBe(0);
    expect(
      await enqueueAttendanceNotices(knex, {
        studentId: other,
        direction: 'arrival',
        date: '2026-11-24',
        time: '07:40',
      }),
    ).toBe(0);
    expect(await knex('sms_outbox').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('rolls back with the transaction it was given', async () => {
    const w = await world();
    await createPhone(knex, w.student);
    await createSubscription(knex, w.student, w.period);
    await expect(
      knex.transaction(async (trx) => {
        await enqueueAttendanceNotices(trx, {
          studentId: w.student,
          direction: 'arrival',
          date: '2026-11-24',
          time: '07:40',
        });
        throw new Error('swipe failed');
      }),
    ).rejects.toThrow('swipe failed');
    expect(await knex('sms_outbox').count({ n: '*' }).first()).toEqual({ n: 0 });
  });
});
