/**
 * The reader API, the dispatcher and a morning peak, against a running portal on the city database. Each run
 * uses today's first arrivals of subscribed students (so every swipe queues its SMS) and removes today's
 * swipes, SMS and attendance days afterwards (demo:city writes only days before today), leaving the city as
 * it was.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { rebuildFigures } from '../../src/domain/reports/daily-figures.js';
import { createReader } from '../../src/domain/readers/reader-tokens.js';
import { startOfTaipeiDay, taipeiDate } from '../../src/domain/time.js';

export interface Pupil {
  studentId: number;
  schoolId: number;
  card: string;
}

const today = () => taipeiDate(new Date());

/** Subscribed students with a verified phone and no swipe today, by school. */
export async function pupils(knex: Knex): Promise<Map<number, Pupil[]>> {
  const rows = (await knex.raw(
    `select st.id as "studentId", st.school_id as "schoolId", cd.card_uid as card
       from students st join cards cd on cd.student_id = st.id and cd.valid_until is null
      where cd.card_uid like 'CITY-%'
        and exists (select 1 from subscriptions s where s.student_id = st.id and s.status = 'active' and s.arrival)
        and exists (select 1 from phones p where p.student_id = st.id and p.verified_at is not null)
        and not exists (select 1 from swipes w where w.student_id = st.id and w.swipe_date = ?)
      order by st.school_id, st.id`,
    [today()],
  )) as { rows: Pupil[] };
  return bySchool(rows.rows);
}

/**
 * Every student with a card and no swipe today, by school (subscribed or not): what a gate sees in the morning.
 * A first arrival of a student without a subscription queues no SMS but is as much work for the reader API.
 */
export async function gatePupils(knex: Knex): Promise<Map<number, Pupil[]>> {
  const rows = (await knex.raw(
    `select st.id as "studentId", st.school_id as "schoolId", cd.card_uid as card
       from students st join cards cd on cd.student_id = st.id and cd.valid_until is null
      where cd.card_uid like 'CITY-%'
        and not exists (select 1 from swipes w where w.student_id = st.id and w.swipe_date = ?)
      order by st.school_id, st.id`,
    [today()],
  )) as { rows: Pupil[] };
  return bySchool(rows.rows);
}

/** Today's swipes, their SMS and attendance days, and the benchmark's readers: gone. */
export async function cleanToday(knex: Knex): Promise<void> {
  const d = today();
  await knex('sms_outbox')
    .where('created_at', '>=', startOfTaipeiDay(d))
    .whereIn('kind', ['arrival', 'departure'])
    .delete();
  await knex('swipes').where('swipe_date', d).delete();
  if ((await knex.raw(`select to_regclass('attendance_days') is not null as ok`)).rows[0].ok)
    await knex('attendance_days').where('day', d).delete();
  await knex('swipes')
    .whereIn('reader_id', knex('card_readers').where('name', 'like', 'bench-%').select('id'))
    .delete();
  await knex('card_readers').where('name', 'like', 'bench-%').delete();
  // Today's daily figures counted the rows just deleted: recount today from what is left.
  if ((await knex.raw(`select to_regclass('daily_sms_figures') is not null as ok`)).rows[0].ok)
    await rebuildFigures(knex, { from: d, to: d });
}

async function readersFor(knex: Knex, schools: number[], n: number): Promise<{ schoolId: number; token: string }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const schoolId = schools[i % schools.length]!;
    const { token } = await createReader(knex, { schoolId, name: `bench-${i}-${randomBytes(3).toString('hex')}` });
    out.push({ schoolId, token });
  }
  return out;
}

async function post(base: string, token: string, batch: Pupil[], tag: string) {
  const at = new Date().toISOString();
  const t = performance.now();
  const res = await fetch(`${base}/api/v1/swipes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      swipes: batch.map((p) => ({ event_id: `${tag}-${p.studentId}`, card_uid: p.card, swiped_at: at })),
    }),
  });
  const body = (await res.json().catch(() => ({}))) as { accepted?: number };
  return { ms: performance.now() - t, status: res.status, accepted: body.accepted ?? 0 };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

export interface ReaderResult {
  readers: number;
  swipes: number;
  accepted: number;
  perSecond: number;
  batchP50: number;
  batchP99: number;
  failedBatches: number;
  smsQueued: number;
}

/** `readers` readers post 500-swipe batches of first arrivals as fast as they are answered, until the pool or time runs out. */
export async function readerRun(knex: Knex, base: string, readers: number, seconds: number): Promise<ReaderResult> {
  await cleanToday(knex);
  const pool = await pupils(knex);
  const schools = [...pool.keys()];
  const queues = new Map(schools.map((s) => [s, [...pool.get(s)!]]));
  const rs = await readersFor(knex, schools, readers);
  const tag = randomBytes(4).toString('hex');
  const lat: number[] = [];
  let swipes = 0;
  let accepted = 0;
  let failed = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(
    rs.map(async (r) => {
      const q = queues.get(r.schoolId)!;
      while (performance.now() < until && q.length > 0) {
        const batch = q.splice(0, 500);
        const x = await post(base, r.token, batch, tag);
        lat.push(x.ms);
        swipes += batch.length;
        accepted += x.accepted;
        if (x.status !== 200) failed++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const sms = Number(
    (
      await knex('sms_outbox')
        .where('created_at', '>=', startOfTaipeiDay(today()))
        .where('kind', 'arrival')
        .count({ n: '*' })
        .first()
    )?.n ?? 0,
  );
  await cleanToday(knex);
  return {
    readers,
    swipes,
    accepted,
    perSecond: accepted / elapsed,
    batchP50: pct(lat, 50),
    batchP99: pct(lat, 99),
    failedBatches: failed,
    smsQueued: sms,
  };
}

export interface DispatchResult {
  processes: number;
  messages: number;
  seconds: number;
  perSecond: number;
  claimedTwice: number;
  left: number;
}

/** `count` queued messages, drained by the dispatcher(s) already running against this database. */
export async function drain(
  knex: Knex,
  schoolId: number,
  count: number,
  processes: number,
  timeoutS: number,
): Promise<DispatchResult> {
  const marker = `bench-${randomBytes(4).toString('hex')}`;
  const start = performance.now();
  await knex.raw(
    `insert into sms_outbox (school_id, kind, phone, body, status, next_attempt_at, created_at)
     select ?, 'message', '09' || lpad(i::text, 8, '0'), ?, 'queued', now(), now() from generate_series(1, ?) as i`,
    [schoolId, marker, count],
  );
  let left = count;
  while (left > 0 && performance.now() - start < timeoutS * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    left = Number(
      (
        await knex('sms_outbox')
          .where('body', marker)
          .whereIn('status', ['queued', 'sending'])
          .count({ n: '*' })
          .first()
      )?.n ?? 0,
    );
  }
  const seconds = (performance.now() - start) / 1000;
  const claimedTwice = Number(
    (await knex('sms_outbox').where('body', marker).where('attempts', '>', 1).count({ n: '*' }).first())?.n ?? 0,
  );
  await knex('sms_outbox').where('body', marker).delete();
  return { processes, messages: count - left, seconds, perSecond: (count - left) / seconds, claimedTwice, left };
}

export interface PeakResult {
  seconds: number;
  swipes: number;
  perSecond: number;
  accepted: number;
  schools: number;
  sms: number;
  delayP50: number;
  delayP99: number;
  notSent: number;
  failedBatches: number;
  ranOut: boolean;
}

/** Gates posting at once each second during the peak (each at another school, in turn). */
export const PEAK_GATES = 8;

/**
 * A morning peak: `rate` first arrivals a second for `seconds`, against a portal that runs the dispatcher; then
 * the delay from each arrival SMS's swipe to its being handed to the provider. Every student of the city with a
 * card can arrive (subscribed or not, as at a real gate: a non-subscriber's arrival queues no SMS but is the same
 * work for the reader API), so 300 swipes/s can be held for ten minutes. Each second PEAK_GATES readers post
 * (open loop: a slow answer does not hold the next second back), each the next school in turn with students left,
 * so the whole city's schools tap through the morning.
 */
export async function peak(knex: Knex, base: string, rate: number, seconds: number): Promise<PeakResult> {
  await cleanToday(knex);
  const pool = await gatePupils(knex);
  const schools = [...pool.keys()];
  const rs = await readersFor(knex, schools, schools.length);
  const tag = randomBytes(4).toString('hex');
  const per = Math.max(1, Math.round(rate / PEAK_GATES));
  let swipes = 0;
  let accepted = 0;
  let failed = 0;
  let ranOut = false;
  let next = 0;
  const inflight: Promise<unknown>[] = [];
  const start = performance.now();
  for (let tick = 0; tick < seconds; tick++) {
    const due = start + tick * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    const sends: Promise<void>[] = [];
    for (let g = 0, tried = 0; g < PEAK_GATES && tried < rs.length; tried++) {
      const r = rs[next++ % rs.length]!;
      const batch = pool.get(r.schoolId)!.splice(0, per);
      if (batch.length === 0) continue;
      g++;
      swipes += batch.length;
      sends.push(
        post(base, r.token, batch, tag).then((x) => {
          accepted += x.accepted;
          if (x.status !== 200) failed++;
        }),
      );
    }
    if (sends.length === 0) ranOut = true;
    inflight.push(Promise.all(sends).catch(() => void failed++));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000 + 1;
  const d = today();
  const wait = performance.now();
  let notSent = 0;
  do {
    await new Promise((r) => setTimeout(r, 500));
    notSent = Number(
      (
        await knex('sms_outbox')
          .where('created_at', '>=', startOfTaipeiDay(d))
          .where('kind', 'arrival')
          .whereIn('status', ['queued', 'sending'])
          .count({ n: '*' })
          .first()
      )?.n ?? 0,
    );
  } while (notSent > 0 && performance.now() - wait < 120_000);
  const delays = (
    (await knex.raw(
      `select extract(epoch from (o.sent_at - w.swiped_at)) * 1000 as ms
         from sms_outbox o join swipes w on w.student_id = o.student_id and w.swipe_date = ?
        where o.kind = 'arrival' and o.created_at >= ? and o.sent_at is not null`,
      [d, startOfTaipeiDay(d)],
    )) as { rows: { ms: string }[] }
  ).rows.map((r) => Number(r.ms));
  await cleanToday(knex);
  return {
    seconds: elapsed,
    swipes,
    perSecond: accepted / elapsed,
    accepted,
    schools: schools.length,
    sms: delays.length,
    delayP50: pct(delays, 50),
    delayP99: pct(delays, 99),
    notSent,
    failedBatches: failed,
    ranOut,
  };
}

/** Pupils grouped by school, in the order read. */
function bySchool(pupils: Pupil[]): Map<number, Pupil[]> {
  const by = new Map<number, Pupil[]>();
  for (const p of pupils) {
    let list = by.get(p.schoolId);
    if (!list) by.set(p.schoolId, (list = []));
    list.push(p);
  }
  return by;
}
