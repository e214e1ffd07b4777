import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { dayRows, detailOf, gridRows } from '../support/pages.js';
import { createPeriod, createSchoolWorld, createStudent, createSubscription } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';
import {
  createCard,
  createDismissalStart,
  createManualEntry,
  createReaderToken,
  retireCardFrom,
} from '../support/attendance-factories.js';
import { revokeReader, setReaderDirection } from '../../src/domain/readers/reader-tokens.js';
import { issueCard } from '../../src/domain/swipes/cards.js';

// Tuesday 2026-11-24, 07:50 Taipei.
const NOW = '2026-11-23T23:50:00Z';
const { app, clock } = useTestApp({ now: NOW });
const knex = testDb().knex;

async function world() {
  const w = await createSchoolWorld(knex);
  await createCard(knex, w.student, { uid: 'AA01' });
  const { token, readerId } = await createReaderToken(knex, w.schoolId);
  return { ...w, token, readerId };
}

const post = (token: string, body: unknown) =>
  request(app)
    .post('/api/v1/swipes')
    .set('Authorization', `Bearer ${token}`)
    .send(body as object);

const swipe = (event_id: string, taipei: string, card_uid = 'AA01') => ({
  event_id,
  card_uid,
  swiped_at: `${taipei}:00+08:00`,
});

const count = async (table: string) => Number(((await knex(table).count({ n: '*' })) as [{ n: string }])[0].n);

describe('POST /api/v1/swipes', () => {
  it('accepts new swipes, answers duplicates for retries and rejects a reused event id', async () => {
    const w = await world();
    const first = await post(w.token, {
      swipes: [swipe('e1', '2026-11-24T07:42'), swipe('e2', '2026-11-24T07:45', 'ff99')],
    });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      { event_id: 'e1', status: 'accepted', matched: true },
      { event_id: 'e2', status: 'accepted', matched: false },
    ]);
    expect(first.body).toMatchObject({ accepted: 2, duplicate: 0, rejected: 0 });

    const retry = await post(w.token, {
      swipes: [swipe('e1', '2026-11-24T07:42'), swipe('e2', '2026-11-24T07:46'), swipe('e3', '2026-11-24T07:47')],
    });
    expect(retry.status).toBe(200);
    expect(retry.body.results).toEqual([
      { event_id: 'e1', status: 'duplicate' },
      { event_id: 'e2', status: 'rejected', reason: 'event_id_reused' },
      { event_id: 'e3', status: 'accepted', matched: true },
    ]);
    expect(await count('swipes')).toBe(3);
    const rows = await knex('swipes').orderBy('event_id').select('event_id', 'student_id', 'swipe_date', 'card_uid');
    expect(rows).toEqual([
      { event_id: 'e1', student_id: w.student, swipe_date: '2026-11-24', card_uid: 'AA01' },
      { event_id: 'e2', student_id: null, swipe_date: '2026-11-24', card_uid: 'FF99' },
      { event_id: 'e3', student_id: w.student, swipe_date: '2026-11-24', card_uid: 'AA01' },
    ]);
    const reader = await knex('card_readers').where({ id: w.readerId }).first('last_seen_at');
    expect(new Date(reader.last_seen_at).toISOString()).toBe(new Date(NOW).toISOString());
  });

  it('treats a repeated event id inside one batch as a duplicate, and refuses swipes older than 31 days', async () => {
    const w = await world();
    const res = await post(w.token, {
      swipes: [swipe('x', '2026-11-24T07:42'), swipe('x', '2026-11-24T07:42'), swipe('old', '2026-10-01T07:42')],
    });
    expect(res.body.results).toEqual([
      { event_id: 'x', status: 'accepted', matched: true },
      { event_id: 'x', status: 'duplicate' },
      { event_id: 'old', status: 'rejected', reason: 'too_old' },
    ]);
    expect(await count('swipes')).toBe(1);
  });

  it('answers 401 to a missing, wrong or revoked token and stores nothing', async () => {
    const w = await world();
    const body = { swipes: [swipe('e1', '2026-11-24T07:42')] };
    const none = await request(app).post('/api/v1/swipes').send(body);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await post('not-the-token-at-all-xxxxxxxxxxxx', body)).status).toBe(401);
    expect((await post(w.token.slice(0, -1) + (w.token.endsWith('A') ? 'B' : 'A'), body)).status).toBe(401);
    expect(await revokeReader(knex, { readerId: w.readerId })).toBe(true);
    const revoked = await post(w.token, body);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('unauthorized');
    expect(await count('swipes')).toBe(0);
  });

  it('refuses a batch of 501 and stores nothing', async () => {
    const w = await world();
    const swipes = Array.from({ length: 501 }, (_, i) => swipe(`b${i}`, '2026-11-24T07:30'));
    const res = await post(w.token, { swipes });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toContain('at most 500');
    expect(await count('swipes')).toBe(0);
  });

  it('stores a full batch of 500', async () => {
    const w = await world();
    const swipes = Array.from({ length: 500 }, (_, i) => swipe(`b${i}`, '2026-11-24T07:30', `C${i}`));
    const res = await post(w.token, { swipes });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(500);
    expect(await count('swipes')).toBe(500);
  });

  it('refuses malformed batches with 400 and stores nothing', async () => {
    const w = await world();
    const good = swipe('g1', '2026-11-24T07:42');
    const cases: unknown[] = [
      {},
      { swipes: [] },
      { swipes: 'x' },
      { swipes: [good, { ...good, event_id: 'g2', card_uid: 'bad uid!' }] },
      { swipes: [good, { ...good, event_id: 'g3', swiped_at: '2026-11-24 07:42' }] },
      { swipes: [good, { ...good, event_id: 'g4', swiped_at: '2026-11-24T07:42:00' }] },
      { swipes: [good, { event_id: 'g5', card_uid: 'AA01' }] },
      { swipes: [{ ...good, student_id: 1 }] },
      { swipes: [good], extra: true },
      { swipes: [{ ...good, event_id: '' }] },
      { swipes: [{ ...good, event_id: 12 }] },
    ];
    for (const body of cases) {
      const res = await post(w.token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('malformed');
      expect(res.body.error.message).toMatch(/nothing was stored/);
    }
    const broken = await request(app)
      .post('/api/v1/swipes')
      .set('Authorization', `Bearer ${w.token}`)
      .set('Content-Type', 'application/json')
      .send('{"swipes": [');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ status: 400, code: 'malformed' });
    const charset = await request(app)
      .post('/api/v1/swipes')
      .set('Authorization', `Bearer ${w.token}`)
      .set('Content-Type', 'application/json; charset=x-unknown')
      .send('{"swipes": []}');
    expect(charset.status).toBe(415);
    expect(charset.body.error).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    const gzip = await request(app)
      .post('/api/v1/swipes')
      .set('Authorization', `Bearer ${w.token}`)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'x-unknown')
      .send('{"swipes": []}');
    expect(gzip.status).toBe(415);
    expect(gzip.body.error).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    const form = await request(app)
      .post('/api/v1/swipes')
      .set('Authorization', `Bearer ${w.token}`)
      .type('form')
      .send('a=1');
    expect(form.status).toBe(415);
    expect(await count('swipes')).toBe(0);
  });

  it('refuses a body over 256 kB and a JSON array with a 4xx JSON answer, storing nothing', async () => {
    const w = await world();
    const big = { swipes: [{ ...swipe('big', '2026-11-24T07:42'), event_id: 'x'.repeat(300_000) }] };
    const res = await post(w.token, big);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ status: 413, code: 'batch_too_large' });
    const arr = await post(w.token, [swipe('a', '2026-11-24T07:42')]);
    expect(arr.status).toBe(400);
    expect(await count('swipes')).toBe(0);
  });

  it("answers the body parser's refusals in the documented shape: a body that does not decompress, a gzip over 256 kB inflated", async () => {
    const w = await world();
    const raw = (body: Buffer, encoding: string) =>
      request(app)
        .post('/api/v1/swipes')
        .set('Authorization', `Bearer ${w.token}`)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        // (as it is: supertest would otherwise serialise a Buffer to JSON)
        .serialize((b: Buffer) => b as unknown as string)
        .send(body);
    const batch = Buffer.from(JSON.stringify({ swipes: [swipe('z1', '2026-11-24T07:42')] }));
    for (const [body, encoding] of [
      [Buffer.from('this is not gzip'), 'gzip'],
      [gzipSync(batch).subarray(0, 20), 'gzip'],
      [Buffer.from('this is not deflate'), 'deflate'],
    ] as const) {
      const res = await raw(body, encoding);
      expect(res.status, encoding).toBe(400);
      expect(res.body.error).toMatchObject({ status: 400, code: 'malformed' });
      expect(res.body.error.message).toMatch(/nothing was stored/);
    }
    const bomb = await raw(gzipSync(Buffer.from(JSON.stringify({ swipes: [], pad: 'x'.repeat(300_000) }))), 'gzip');
    expect(bomb.status).toBe(413);
    expect(bomb.body.error).toMatchObject({ status: 413, code: 'batch_too_large' });
    expect(await count('swipes')).toBe(0);
    // Not a reader API address: the same shape.
    const get = await request(app).get('/api/v1/swipes').set('Authorization', `Bearer ${w.token}`);
    expect(get.status).toBe(404);
    expect(get.body.error).toMatchObject({ status: 404, code: 'not_found' });
    // A reader that compresses its batch is served.
    const ok = await raw(gzipSync(batch), 'gzip');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ accepted: 1 });
  });

  it('refuses a batch with a future-dated swipe (beyond 5 minutes of skew) with 422, storing nothing', async () => {
    const w = await world();
    const res = await post(w.token, { swipes: [swipe('f1', '2026-11-24T07:42'), swipe('f2', '2026-11-24T07:56')] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('future_dated');
    expect(res.body.error.details).toEqual([{ index: 1, event_id: 'f2' }]);
    expect(await count('swipes')).toBe(0);
    const skew = await post(w.token, { swipes: [swipe('f3', '2026-11-24T07:54')] });
    expect(skew.status).toBe(200);
  });

  it('maps a lost card to nothing after it is retired and the new card to the student', async () => {
    const w = await world();
    await retireCardFrom(knex, w.schoolId, 'aa01', '2026-11-23');
    await issueCard(knex, { studentId: w.student, cardUid: 'bb02', validFrom: '2026-11-23' });
    const res = await post(w.token, {
      swipes: [
        swipe('o1', '2026-11-20T07:40'),
        swipe('o2', '2026-11-24T07:40'),
        swipe('n1', '2026-11-24T07:41', 'BB02'),
      ],
    });
    expect(res.body.results.map((r: { matched: boolean }) => r.matched)).toEqual([true, false, true]);
    const rows = await knex('swipes').orderBy('event_id').select('event_id', 'student_id');
    expect(rows).toEqual([
      { event_id: 'n1', student_id: w.student },
      { event_id: 'o1', student_id: w.student },
      { event_id: 'o2', student_id: null },
    ]);
  });

  it('never maps a card of another school', async () => {
    const w = await world();
    const other = await createSchoolWorld(knex, { schoolName: '市立仁愛國小' });
    await createCard(knex, other.student, { uid: 'CC03' });
    const res = await post(w.token, { swipes: [swipe('c1', '2026-11-24T07:40', 'CC03')] });
    expect(res.body.results[0]).toEqual({ event_id: 'c1', status: 'accepted', matched: false });
  });
});

describe('the SMS a swipe triggers', () => {
  async function subscribed(o: { cancelledOn?: string | null; status?: string; arrival?: boolean } = {}) {
    const w = await world();
    const period = await createPeriod(knex, w.schoolId);
    await createSubscription(knex, w.student, period, {
      status: o.status ?? 'active',
      cancelledOn: o.cancelledOn ?? null,
      arrival: o.arrival ?? true,
    });
    await createPhone(knex, w.student, { number: '0912345678' });
    await createPhone(knex, w.student, { number: '0922333444' });
    await createPhone(knex, w.student, { number: '0933000111', verified: false });
    return w;
  }
  const outbox = () => knex('sms_outbox').orderBy('id').select('kind', 'phone', 'body', 'student_id');

  it('queues the arrival notice for each verified phone, once per day', async () => {
    const w = await subscribed();
    await post(w.token, { swipes: [swipe('a1', '2026-11-24T07:42'), swipe('a2', '2026-11-24T07:44')] });
    await post(w.token, { swipes: [swipe('a3', '2026-11-24T07:45')] });
    expect(await outbox()).toEqual([
      {
        kind: 'arrival',
        phone: '0912345678',
        body: '【臺北市數位學生證】王小明已於07:42到校。',
        student_id: w.student,
      },
      {
        kind: 'arrival',
        phone: '0922333444',
        body: '【臺北市數位學生證】王小明已於07:42到校。',
        student_id: w.student,
      },
    ]);
  });

  it('queues the departure notice for the first swipe after the dismissal start and at least 10 minutes after arrival, and only once', async () => {
    const w = await subscribed();
    clock.set('2026-11-24T08:30:00Z'); // 16:30 Taipei
    await post(w.token, {
      swipes: [swipe('d1', '2026-11-24T16:05'), swipe('d2', '2026-11-24T16:14'), swipe('d3', '2026-11-24T16:15')],
    });
    await post(w.token, { swipes: [swipe('d4', '2026-11-24T16:20')] });
    const rows = await outbox();
    expect(rows.filter((r) => r.kind === 'arrival').map((r) => r.body)).toEqual([
      '【臺北市數位學生證】王小明已於16:05到校。',
      '【臺北市數位學生證】王小明已於16:05到校。',
    ]);
    expect(rows.filter((r) => r.kind === 'departure').map((r) => r.body)).toEqual([
      '【臺北市數位學生證】王小明已於16:15離校。',
      '【臺北市數位學生證】王小明已於16:15離校。',
    ]);
  });

  it('sends nothing for a swipe received more than 30 minutes late', async () => {
    const w = await subscribed();
    clock.set('2026-11-24T00:13:00Z'); // 08:13 Taipei: 31 minutes after 07:42
    const res = await post(w.token, { swipes: [swipe('l1', '2026-11-24T07:42')] });
    expect(res.body.results[0].status).toBe('accepted');
    expect(await outbox()).toEqual([]);
    clock.set('2026-11-24T00:12:00Z'); // exactly 30 minutes after 07:43
    await post(w.token, { swipes: [swipe('l2', '2026-11-24T07:42')] });
    expect(await outbox()).toEqual([]); // 07:42 is already the arrival (l1): not a new arrival
  });

  it('sends exactly at 30 minutes late', async () => {
    const w = await subscribed();
    clock.set('2026-11-24T00:12:00Z');
    await post(w.token, { swipes: [swipe('l1', '2026-11-24T07:42')] });
    expect((await outbox()).length).toBe(2);
  });

  it('sends nothing when a manual arrival entry already made the arrival', async () => {
    const w = await subscribed();
    await createManualEntry(knex, { studentId: w.student, date: '2026-11-24', time: '07:38', direction: 'arrival' });
    await post(w.token, { swipes: [swipe('m1', '2026-11-24T07:42')] });
    expect(await outbox()).toEqual([]);
    // A morning swipe after the manual arrival is no departure either (before the dismissal start).
    await post(w.token, { swipes: [swipe('m2', '2026-11-24T07:48')] });
    expect(await outbox()).toEqual([]);
  });

  it('sends nothing without an effective subscription, or without the item', async () => {
    const w = await world();
    await createPhone(knex, w.student);
    await post(w.token, { swipes: [swipe('n1', '2026-11-24T07:42')] });
    expect(await outbox()).toEqual([]);
    const period = await createPeriod(knex, w.schoolId);
    await createSubscription(knex, w.student, period, { arrival: false });
    const other = await createStudent(knex, w.class401, { name: '李小華' });
    await createCard(knex, other, { uid: 'AA02' });
    await post(w.token, { swipes: [swipe('n2', '2026-11-24T07:43')] });
    expect(await outbox()).toEqual([]);
  });

  it('sends on the day a cancellation is approved, not on the day after', async () => {
    // Cancellation approved on 2026-11-24 → cancelled_on 2026-11-25.
    const w = await subscribed({ status: 'cancelled', cancelledOn: '2026-11-25' });
    await post(w.token, { swipes: [swipe('c1', '2026-11-24T07:42')] });
    expect((await outbox()).length).toBe(2);
    clock.set('2026-11-24T23:50:00Z'); // 2026-11-25 07:50 Taipei
    await post(w.token, { swipes: [swipe('c2', '2026-11-25T07:42')] });
    expect((await outbox()).length).toBe(2);
    expect(await count('swipes')).toBe(2);
  });

  it('sends nothing for an unmatched card', async () => {
    const w = await subscribed();
    await post(w.token, { swipes: [swipe('u1', '2026-11-24T07:42', 'ZZ99')] });
    expect(await outbox()).toEqual([]);
  });
});

describe('a real school day: arrival and departure by dismissal start and reader direction', () => {
  async function subscribed() {
    const w = await world();
    const period = await createPeriod(knex, w.schoolId);
    await createSubscription(knex, w.student, period, { status: 'active' });
    await createPhone(knex, w.student, { number: '0912345678' });
    return w;
  }
  const sent = async () => (await knex('sms_outbox').orderBy('id').select('body')).map((r) => r.body as string);
  const stored = async (studentId: number, day: string) =>
    knex('attendance_days')
      .where({ student_id: studentId, day })
      .first('arrival_time', 'departure_time', 'departure_manual');
  const at = (taipei: string) => clock.set(new Date(`${taipei}:00+08:00`).toISOString());
  /** The class day view of 四年一班 as its teacher (林老師) sees it. */
  const classDay = async (w: { schoolId: number; class401: number }, date: string) => {
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    return (await teacher.get(`/attendance?classId=${w.class401}&date=${date}`).expect(200)).text;
  };
  /** 王小明's classmate 陳小美, with the card AA02. */
  async function classmate(classId: number) {
    const id = await createStudent(knex, classId, { name: '陳小美', studentNumber: '11301002', seat: 2 });
    await createCard(knex, id, { uid: 'AA02' });
    return id;
  }

  it('sends one 到校 SMS for a double morning tap (07:35, 07:50) and the 離校 SMS at 16:05, which the grid shows', async () => {
    const w = await subscribed();
    const second = await createReaderToken(knex, w.schoolId, '側門');
    at('2026-11-24T07:36');
    await post(w.token, { swipes: [swipe('m1', '2026-11-24T07:35')] });
    at('2026-11-24T07:51');
    await post(second.token, { swipes: [swipe('m2', '2026-11-24T07:50')] });
    expect(await sent()).toEqual(['【臺北市數位學生證】王小明已於07:35到校。']);
    expect(await stored(w.student, '2026-11-24')).toEqual({
      arrival_time: '07:35',
      departure_time: null,
      departure_manual: false,
    });

    at('2026-11-24T16:06');
    await post(w.token, { swipes: [swipe('m3', '2026-11-24T16:05')] });
    expect(await sent()).toEqual([
      '【臺北市數位學生證】王小明已於07:35到校。',
      '【臺北市數位學生證】王小明已於16:05離校。',
    ]);

    // A later tap changes neither the SMS nor the grid.
    at('2026-11-24T16:31');
    await post(second.token, { swipes: [swipe('m4', '2026-11-24T16:30')] });
    expect((await sent()).length).toBe(2);
    expect(await stored(w.student, '2026-11-24')).toEqual({
      arrival_time: '07:35',
      departure_time: '16:05',
      departure_manual: false,
    });

    // Every page shows the same 16:05: the parent's 首頁, 出勤管理 and 統計報表 (the month), the teacher's class
    // day view and its CSV; the day's detail lists the taps that sent nothing.
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const home = await parent.get('/').expect(200);
    expect(gridRows(home.text).at(-1)).toEqual(['星期二 11-24', '07:35', '16:05']);
    expect(home.text).not.toContain('07:50');
    expect(home.text).not.toContain('16:30');
    expect(gridRows((await parent.get('/attendance').expect(200)).text).at(-1)).toEqual([
      '星期二 11-24',
      '07:35',
      '16:05',
    ]);
    const month = (await parent.get('/reports').expect(200)).text;
    expect(month).toContain('<span class="cal-line">到 07:35</span>');
    expect(month).toContain('<span class="cal-line">離 16:05</span>');
    expect(month).not.toContain('07:50');
    const day = await classDay(w, '2026-11-24');
    expect(dayRows(day)).toEqual([['王小明', '07:35', '16:05']]);
    expect(detailOf(day, '王小明')).toEqual([
      '07:35 正門（進出）：到校',
      '07:50 側門（進出）：僅記錄',
      '16:05 正門（進出）：離校',
      '16:30 側門（進出）：僅記錄',
    ]);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const csv = (await teacher.get(`/attendance/export.csv?classId=${w.class401}&date=2026-11-24`).expect(200)).text;
    expect(csv).toContain('"王小明","07:35","16:05"');
  });

  it('takes a Wednesday 12:10 tap as the departure when the school dismisses at 12:00 on Wednesdays', async () => {
    const w = await subscribed();
    await createDismissalStart(knex, w.schoolId, 3, '12:00');
    clock.set(new Date('2026-11-25T12:11:00+08:00').toISOString()); // Wednesday
    await post(w.token, {
      swipes: [swipe('w1', '2026-11-25T07:40'), swipe('w2', '2026-11-25T11:50'), swipe('w3', '2026-11-25T12:10')],
    });
    expect((await sent()).filter((b) => b.includes('離校'))).toEqual(['【臺北市數位學生證】王小明已於12:10離校。']);
    // Tuesday keeps the default 11:30: 11:50 is a departure there.
    const other = await classmate(w.class401);
    clock.set(new Date('2026-11-24T11:51:00+08:00').toISOString());
    await post(w.token, { swipes: [swipe('t1', '2026-11-24T07:40', 'AA02'), swipe('t2', '2026-11-24T11:50', 'AA02')] });
    expect(await stored(other, '2026-11-24')).toMatchObject({ arrival_time: '07:40', departure_time: '11:50' });
  });

  it('sends the departure for an out reader at 10:00 (an early leave), never for an in reader at 16:05', async () => {
    const w = await subscribed();
    const exit = await createReaderToken(knex, w.schoolId, '出口', 'out');
    const entrance = await createReaderToken(knex, w.schoolId, '入口', 'in');
    at('2026-11-24T10:01');
    await post(entrance.token, { swipes: [swipe('o1', '2026-11-24T07:40')] });
    await post(exit.token, { swipes: [swipe('o2', '2026-11-24T10:00')] });
    expect(await sent()).toEqual(['【臺北市數位學生證】王小明已於10:00離校。']); // 07:40 was too late for an SMS at 10:01

    const other = await classmate(w.class401);
    const period = await knex('service_periods').first('id');
    await createSubscription(knex, other, period.id as number, { status: 'active' });
    await createPhone(knex, other, { number: '0922333444' });
    at('2026-11-24T16:06');
    await post(entrance.token, {
      swipes: [swipe('i1', '2026-11-24T15:50', 'AA02'), swipe('i2', '2026-11-24T16:05', 'AA02')],
    });
    expect((await sent()).filter((b) => b.includes('陳小美'))).toEqual(['【臺北市數位學生證】陳小美已於15:50到校。']);
    expect(await stored(other, '2026-11-24')).toMatchObject({ arrival_time: '15:50', departure_time: null });
  });

  it('never sends an arrival for an out-reader tap: a child who only taps out at 16:05 gets no SMS that day', async () => {
    const w = await subscribed();
    const exit = await createReaderToken(knex, w.schoolId, '出口', 'out');
    at('2026-11-24T16:06');
    const r = await post(exit.token, { swipes: [swipe('x1', '2026-11-24T16:05')] });
    expect(r.status).toBe(200);
    expect(await knex('swipes').where({ event_id: 'x1' }).count({ n: '*' }).first()).toMatchObject({ n: 1 }); // kept
    expect(await sent()).toEqual([]);
    const day = await stored(w.student, '2026-11-24');
    expect(day?.arrival_time ?? null).toBeNull();
    expect(day?.departure_time ?? null).toBeNull();
    // Once the teacher records the arrival with 補登, the 16:05 tap is the departure the pages show (the SMS
    // moment has passed: nothing is sent late).
  });

  it('keeps the departure already sent when the office then moves the dismissal start: the new time applies to the swipes from then on', async () => {
    const w = await subscribed();
    const chen = await classmate(w.class401);
    // Wednesday 2026-11-25 with the default dismissal start 11:30: 王小明 leaves at 11:40.
    at('2026-11-25T07:46');
    await post(w.token, { swipes: [swipe('w1', '2026-11-25T07:40'), swipe('w2', '2026-11-25T07:45', 'AA02')] });
    at('2026-11-25T11:41');
    await post(w.token, { swipes: [swipe('w3', '2026-11-25T11:40')] });
    // The school office then sets Wednesdays to 12:00 on 學校行事曆.
    const office = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const week = { weekday1: '11:30', weekday2: '11:30', weekday3: '12:00', weekday4: '11:30', weekday5: '11:30' };
    expect((await postForm(office, '/attendance/calendar', '/attendance/calendar/dismissal-times', week)).status).toBe(
      303,
    );
    // 陳小美's 11:50 is before the new start (kept, nothing sent) and her 12:05 is the departure; 王小明's later
    // 12:10 tap recomputes his day, which keeps the 11:40 his parents were sent.
    at('2026-11-25T11:51');
    await post(w.token, { swipes: [swipe('w4', '2026-11-25T11:50', 'AA02')] });
    at('2026-11-25T12:11');
    await post(w.token, { swipes: [swipe('w5', '2026-11-25T12:05', 'AA02'), swipe('w6', '2026-11-25T12:10')] });
    expect(await sent()).toEqual([
      '【臺北市數位學生證】王小明已於07:40到校。',
      '【臺北市數位學生證】王小明已於11:40離校。',
    ]);
    expect(await stored(w.student, '2026-11-25')).toEqual({
      arrival_time: '07:40',
      departure_time: '11:40',
      departure_manual: false,
    });
    expect(await stored(chen, '2026-11-25')).toMatchObject({ arrival_time: '07:45', departure_time: '12:05' });
    const day = await classDay(w, '2026-11-25');
    expect(dayRows(day)).toEqual([
      ['王小明', '07:40', '11:40'],
      ['陳小美', '07:45', '12:05'],
    ]);
    expect(detailOf(day, '王小明')).toEqual([
      '07:40 正門（進出）：到校',
      '11:40 正門（進出）：離校',
      '12:10 正門（進出）：僅記錄',
    ]);
    expect(detailOf(day, '陳小美')).toEqual([
      '07:45 正門（進出）：到校',
      '11:50 正門（進出）：僅記錄',
      '12:05 正門（進出）：離校',
    ]);
  });

  it("keeps the departure already sent when a reader's direction is then changed: the new direction applies to the swipes from then on", async () => {
    const w = await subscribed();
    const chen = await classmate(w.class401);
    at('2026-11-24T07:46');
    await post(w.token, { swipes: [swipe('r1', '2026-11-24T07:40'), swipe('r2', '2026-11-24T07:45', 'AA02')] });
    at('2026-11-24T16:06');
    await post(w.token, { swipes: [swipe('r3', '2026-11-24T16:05')] });
    // The gate (正門) is made an entrance only (reader:direction … --direction in).
    expect(await setReaderDirection(knex, { schoolId: w.schoolId, name: '正門', direction: 'in' })).toMatchObject({
      from: 'both',
      to: 'in',
    });
    at('2026-11-24T16:31');
    await post(w.token, { swipes: [swipe('r4', '2026-11-24T16:30'), swipe('r5', '2026-11-24T16:20', 'AA02')] });
    expect(await sent()).toEqual([
      '【臺北市數位學生證】王小明已於07:40到校。',
      '【臺北市數位學生證】王小明已於16:05離校。',
    ]);
    expect(await stored(w.student, '2026-11-24')).toEqual({
      arrival_time: '07:40',
      departure_time: '16:05',
      departure_manual: false,
    });
    expect(await stored(chen, '2026-11-24')).toMatchObject({ arrival_time: '07:45', departure_time: null });
    const day = await classDay(w, '2026-11-24');
    expect(dayRows(day)).toEqual([
      ['王小明', '07:40', '16:05'],
      ['陳小美', '07:45', '未刷卡'],
    ]);
    expect(detailOf(day, '王小明')).toEqual([
      '07:40 正門（進出）：到校',
      '16:05 正門（進出）：離校',
      '16:30 正門（進校）：僅記錄',
    ]);
  });

  it('keeps a both-reader tap at 10:00 and sends nothing for it; the teacher records the early leave with 補登', async () => {
    const w = await subscribed();
    at('2026-11-24T10:01');
    await post(w.token, { swipes: [swipe('e1', '2026-11-24T09:45'), swipe('e2', '2026-11-24T10:00')] });
    expect(await sent()).toEqual(['【臺北市數位學生證】王小明已於09:45到校。']);
    expect(await count('swipes')).toBe(2);
    expect(detailOf(await classDay(w, '2026-11-24'), '王小明')).toEqual([
      '09:45 正門（進出）：到校',
      '10:00 正門（進出）：僅記錄',
    ]);
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(teacher, '/attendance', '/attendance/manual-entries', {
      classId: String(w.class401),
      studentId: String(w.student),
      date: '2026-11-24',
      time: '10:00',
      direction: 'departure',
      reason: '身體不適，家長接回',
    });
    expect(res.status).toBe(303);
    expect(await stored(w.student, '2026-11-24')).toEqual({
      arrival_time: '09:45',
      departure_time: '10:00',
      departure_manual: true,
    });
    const day = await classDay(w, '2026-11-24');
    expect(dayRows(day)).toEqual([['王小明', '09:45', '補登 10:00']]);
    expect(detailOf(day, '王小明')).toEqual([
      '09:45 正門（進出）：到校',
      '10:00 正門（進出）：僅記錄',
      '補登 10:00（離校）：離校',
    ]);
    expect((await sent()).length).toBe(1); // 補登 sends nothing
  });
});
