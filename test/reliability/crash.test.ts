/**
 * kill -9 of the portal while 8 gate readers post their batches, then a restart on the same port: every swipe
 * answered 200 is stored, retries of a batch whose answer was lost come back as duplicates, and no SMS is queued
 * twice. Readers behave as real ones: a batch without a 200 is sent again, unchanged, until it gets one.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import {
  createClass,
  createParent,
  createPeriod,
  createSchool,
  createStudent,
  createSubscription,
} from '../support/factories.js';
import { createCard, createReaderToken } from '../support/attendance-factories.js';
import { createPhone } from '../support/sms-factories.js';
import { sleep, startPortal, type Portal } from './support.js';

const READERS = 8;
const BATCHES = 12;
const BATCH = 10;
const STUDENTS = 40;
const APP_NOW = '2026-11-24T07:45:00+08:00';

let portal: Portal;
beforeAll(() => resetDb());
afterAll(async () => {
  portal?.child.kill('SIGTERM');
  await portal?.exited;
  await closeTestDb();
});

describe('kill -9 during the readers’ batches', () => {
  it(
    'loses no swipe answered 200, answers retries as duplicates, and queues no SMS twice',
    { timeout: 180_000 },
    async () => {
      const knex = testDb().knex;
      const schoolId = await createSchool(knex, { name: '市立忠孝國小' });
      const classId = await createClass(knex, schoolId, { code: '401', name: '四年一班', grade: 4 });
      const periodId = await createPeriod(knex, schoolId);
      const cards: string[] = [];
      for (let i = 0; i < STUDENTS; i++) {
        const studentId = await createStudent(knex, classId, { seat: i + 1 });
        await createParent(knex, [studentId]);
        await createSubscription(knex, studentId, periodId);
        await createPhone(knex, studentId, { number: `0912${String(100000 + i).slice(-6)}` });
        await createCard(knex, studentId, { uid: `C${1000 + i}` });
        cards.push(`C${1000 + i}`);
      }
      const tokens: string[] = [];
      for (let r = 0; r < READERS; r++) tokens.push((await createReaderToken(knex, schoolId, `閘門${r}`)).token);

      portal = await startPortal({ DATABASE_URL: inject('databaseUrl'), APP_NOW });
      const port = portal.port;

      const answers = new Map<string, string[]>(); // "reader:event" → every status it was answered with
      let failedPosts = 0;
      let answered = 0;
      const reader = async (r: number) => {
        for (let b = 0; b < BATCHES; b++) {
          const swipes = Array.from({ length: BATCH }, (_, k) => {
            const n = b * BATCH + k;
            return {
              event_id: `r${r}-${n}`,
              card_uid: cards[(r * 7 + n) % STUDENTS],
              swiped_at: `2026-11-24T07:${String(30 + (n % 10)).padStart(2, '0')}:${String((r * 7 + n) % 60).padStart(2, '0')}+08:00`,
            };
          });
          for (;;) {
            try {
              const res = await fetch(`http://127.0.0.1:${port}/api/v1/swipes`, {
                method: 'POST',
                headers: { authorization: `Bearer ${tokens[r]}`, 'content-type': 'application/json' },
                body: JSON.stringify({ swipes }),
                signal: AbortSignal.timeout(20_000),
              });
              if (res.status === 200) {
                const body = (await res.json()) as { results: { event_id: string; status: string }[] };
                for (const x of body.results)
                  answers.set(`${r}:${x.event_id}`, [...(answers.get(`${r}:${x.event_id}`) ?? []), x.status]);
                answered++;
                break;
              }
              await res.arrayBuffer();
            } catch {
              // no answer: the portal is gone; send the same batch again
            }
            failedPosts++;
            await sleep(200);
          }
        }
      };
      const readers = Array.from({ length: READERS }, (_, r) => reader(r));

      // Kill the portal in the middle of the traffic, then start it again on the same port.
      while (answered < 20) await sleep(20);
      portal.child.kill('SIGKILL');
      await portal.exited;
      const answeredBeforeKill = answered;
      portal = await startPortal({ DATABASE_URL: inject('databaseUrl'), APP_NOW }, port);
      await Promise.all(readers);

      expect(answeredBeforeKill).toBeLessThan(READERS * BATCHES);
      expect(failedPosts).toBeGreaterThan(0);
      const stored = (await knex('swipes as s')
        .join('card_readers as r', 'r.id', 's.reader_id')
        .select('r.name', 's.event_id')) as { name: string; event_id: string }[];
      const storedKeys = new Set(stored.map((s) => `${s.name.replace('閘門', '')}:${s.event_id}`));
      // Every swipe answered 200 (accepted or duplicate) is stored, once.
      expect(answers.size).toBe(READERS * BATCHES * BATCH);
      for (const [key, statuses] of answers) {
        expect(storedKeys.has(key), key).toBe(true);
        expect(
          statuses.every((s) => s === 'accepted' || s === 'duplicate'),
          `${key}: ${statuses.join()}`,
        ).toBe(true);
      }
      expect(stored).toHaveLength(READERS * BATCHES * BATCH);
      // A swipe is accepted at most once; a batch sent again after a lost answer comes back as duplicates.
      for (const [key, statuses] of answers)
        expect(statuses.filter((s) => s === 'accepted').length, key).toBeLessThanOrEqual(1);
      const accepted = [...answers.values()].flat().filter((s) => s === 'accepted').length;
      expect(accepted).toBeLessThanOrEqual(stored.length);
      // One arrival SMS per student and day, whatever the retries and the crash.
      const outbox = (await knex('sms_outbox').select('student_id', 'kind', 'phone')) as {
        student_id: number;
        kind: string;
      }[];
      expect(outbox).toHaveLength(STUDENTS);
      expect(new Set(outbox.map((o) => `${o.student_id}:${o.kind}`)).size).toBe(STUDENTS);
      expect(outbox.every((o) => o.kind === 'arrival')).toBe(true);
    },
  );
});
