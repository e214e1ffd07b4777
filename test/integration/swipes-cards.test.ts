import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { useTestApp } from '../support/app.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';
import { createReaderToken, retireCardFrom } from '../support/attendance-factories.js';
import { CardError, issueCard, studentForCard } from '../../src/domain/swipes/cards.js';

const NOW = '2026-11-23T23:50:00Z'; // Tuesday 2026-11-24 07:50 Taipei
const { app } = useTestApp({ now: NOW });
const knex = testDb().knex;

describe('cards (issueCard / retireSchoolCard)', () => {
  it('issues a card, and a replacement ends the old card the day before', async () => {
    const w = await createSchoolWorld(knex);
    await issueCard(knex, { studentId: w.student, cardUid: 'old1', validFrom: '2026-08-01' });
    const { retired } = await issueCard(knex, { studentId: w.student, cardUid: 'NEW2', validFrom: '2026-11-20' });
    expect(retired).toBe(1);
    const cards = await knex('cards').orderBy('id').select('card_uid', 'valid_from', 'valid_until');
    expect(cards).toEqual([
      { card_uid: 'OLD1', valid_from: '2026-08-01', valid_until: '2026-11-19' },
      { card_uid: 'NEW2', valid_from: '2026-11-20', valid_until: null },
    ]);
    expect(await studentForCard(knex, w.schoolId, 'old1', '2026-11-19')).toBe(w.student);
    expect(await studentForCard(knex, w.schoolId, 'OLD1', '2026-11-20')).toBeUndefined();
    expect(await studentForCard(knex, w.schoolId, 'NEW2', '2026-11-20')).toBe(w.student);
    expect(await studentForCard(knex, w.schoolId, 'NEW2', '2026-11-19')).toBeUndefined();
  });

  it('refuses a card still valid for another student, a bad UID and a bad date', async () => {
    const w = await createSchoolWorld(knex);
    const other = await createStudent(knex, w.class401);
    await issueCard(knex, { studentId: w.student, cardUid: 'AA01', validFrom: '2026-08-01' });
    await expect(
      issueCard(knex, { studentId: other, cardUid: 'aa01', validFrom: '2026-11-01' }),
    ).rejects.toBeInstanceOf(CardError);
    await expect(
      issueCard(knex, { studentId: other, cardUid: 'bad uid', validFrom: '2026-11-01' }),
    ).rejects.toBeInstanceOf(CardError);
    await expect(
      issueCard(knex, { studentId: other, cardUid: 'BB01', validFrom: '2026-02-30' }),
    ).rejects.toBeInstanceOf(CardError);
    await expect(
      issueCard(knex, { studentId: 99999, cardUid: 'BB01', validFrom: '2026-11-01' }),
    ).rejects.toBeInstanceOf(CardError);
    // Once retired, the card may go to someone else.
    expect(await retireCardFrom(knex, w.schoolId, 'AA01', '2026-11-01')).toBe(true);
    await issueCard(knex, { studentId: other, cardUid: 'AA01', validFrom: '2026-11-01' });
    expect(await studentForCard(knex, w.schoolId, 'AA01', '2026-10-31')).toBe(w.student);
    expect(await studentForCard(knex, w.schoolId, 'AA01', '2026-11-01')).toBe(other);
  });

  it('one card issued to two students at the same moment goes to exactly one of them', async () => {
    const knex = testDb().knex;
    const w = await createSchoolWorld(knex);
    const other = await createStudent(knex, w.class401, { name: '陳小美', studentNumber: '11301002', seat: 2 });
    for (let round = 0; round < 5; round++) {
      const uid = `RACE${round}`;
      const results = await Promise.allSettled([
        issueCard(knex, { studentId: w.student, cardUid: uid, validFrom: '2026-09-01' }),
        issueCard(knex, { studentId: other, cardUid: uid, validFrom: '2026-09-01' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(CardError);
      expect(await knex('cards').where({ card_uid: uid }).count('* as n').first()).toEqual({ n: 1 });
    }
  });

  it('retires a card from a day on, once, and removes a card retired before it began', async () => {
    const w = await createSchoolWorld(knex);
    await issueCard(knex, { studentId: w.student, cardUid: 'AA01', validFrom: '2026-08-01' });
    expect(await retireCardFrom(knex, w.schoolId, 'AA01', '2026-11-24')).toBe(true);
    expect(await knex('cards').first('valid_until')).toEqual({ valid_until: '2026-11-23' });
    expect(await retireCardFrom(knex, w.schoolId, 'AA01', '2026-11-24')).toBe(false);
    await issueCard(knex, { studentId: w.student, cardUid: 'BB02', validFrom: '2026-11-24' });
    expect(await retireCardFrom(knex, w.schoolId, 'BB02', '2026-11-24')).toBe(true);
    expect(await knex('cards').where({ card_uid: 'BB02' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('concurrent readers', () => {
  it('two readers reporting the same arrival at once queue one notice per phone', async () => {
    const w = await createSchoolWorld(knex);
    await issueCard(knex, { studentId: w.student, cardUid: 'AA01', validFrom: '2026-08-01' });
    const period = await createPeriod(knex, w.schoolId);
    await createSubscription(knex, w.student, period);
    await createPhone(knex, w.student);
    const a = await createReaderToken(knex, w.schoolId, '正門');
    const b = await createReaderToken(knex, w.schoolId, '側門');
    const body = (id: string, t: string) => ({
      swipes: [{ event_id: id, card_uid: 'AA01', swiped_at: `2026-11-24T${t}:00+08:00` }],
    });
    const results = await Promise.all([
      request(app).post('/api/v1/swipes').set('Authorization', `Bearer ${a.token}`).send(body('a1', '07:42')),
      request(app).post('/api/v1/swipes').set('Authorization', `Bearer ${b.token}`).send(body('b1', '07:42')),
      request(app).post('/api/v1/swipes').set('Authorization', `Bearer ${a.token}`).send(body('a1', '07:42')),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await knex('swipes').count({ n: '*' })).toEqual([{ n: 2 }]);
    expect(await knex('sms_outbox').select('kind', 'phone')).toEqual([{ kind: 'arrival', phone: '0912345678' }]);
  });
});
