/**
 * The daily figures (daily_sms_figures, daily_attendance_figures) that 統計報表 and the staff 首頁 read
 * are kept by the writers themselves. After a mixed sequence through the real paths — reader batches (first
 * arrivals, departures, a double tap, a retried batch), a 補登 added, corrected and deleted, SMS sent, failed,
 * resent and delivered through the delivery-report callback, a message from 訊息發送服務, a swipe on a holiday —
 * the figures equal a recount from the raw rows, the pages show them, the migration's backfill gives the same
 * rows, and `figures:rebuild` repairs a school whose figures drifted.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { signedIn, useTestApp } from '../support/app.js';
import { testDb } from '../support/db.js';
import { createStudent, createSubscription } from '../support/factories.js';
import { createCard, createHoliday, createReaderToken } from '../support/attendance-factories.js';
import { createPhone } from '../support/sms-factories.js';
import { smsWorld, userFor } from '../support/subscriptions-factories.js';
import { SmsDispatcher } from '../../src/domain/sms/dispatcher.js';
import type { OutgoingSms, SendResult, SmsProvider } from '../../src/domain/sms/providers/provider.js';
import { resendOne } from '../../src/domain/sms/sms-resend.js';
import { addManualEntry, correctManualEntry, deleteManualEntry } from '../../src/domain/attendance/manual-entries.js';
import { sendMessage } from '../../src/domain/messages/messages.js';
import { figureDrift, smsBucket } from '../../src/domain/reports/daily-figures.js';
import { runAdmin, type CliContext } from '../../src/cli/admin.js';
import { SCRIPT_ACTOR, userActor } from '../../src/domain/audit.js';
import { taipeiDate } from '../../src/domain/time.js';
import * as figuresMigration from '../../migrations/20261130100100_create_daily_figures.js';
import { reportRows } from '../support/pages.js';

const TOKEN = 'callback-token-0123456789abcdef';
const { app, clock } = useTestApp({ now: '2026-11-22T23:50:00Z', env: { SMS_CALLBACK_TOKEN: TOKEN } });
const knex = () => testDb().knex;
const RULES = { departureMinMinutes: 10 };

/** The gateway (三竹's answers, scripted per phone): the dispatcher's provider is named 'mitake' so the callback finds its messages. */
class Gateway implements SmsProvider {
  readonly name = 'mitake';
  failing = new Set<string>();
  async send(sms: OutgoingSms): Promise<SendResult> {
    if (this.failing.has(sms.phone))
      return { ok: false, error: 'HTTP 200 statuscode=e', permanent: true, code: 'invalid_number' };
    return { ok: true, providerMessageId: `m-${sms.id}` };
  }
}

const swipe = (event_id: string, card_uid: string, taipei: string) => ({
  event_id,
  card_uid,
  swiped_at: `${taipei}:00+08:00`,
});
const post = (token: string, swipes: unknown[]) =>
  request(app).post('/api/v1/swipes').set('Authorization', `Bearer ${token}`).send({ swipes });
const callback = (msgid: string, statuscode: string) =>
  request(app).get(`/api/v1/sms/mitake/callback?token=${TOKEN}&msgid=${msgid}&statuscode=${statuscode}`);
const at = (iso: string) => clock.set(iso);

/** The mixed sequence, through the paths the portal uses. Days: Mon 11-23, Tue 11-24 (a holiday), Wed 11-25. */
async function scenario() {
  const w = await smsWorld(knex()); // 王小明 (401, subscribed), 陳小美 (401), 李小華 (402, subscribed)
  const other = await smsWorld(knex()); // another school: never in w's figures
  const qiang = await createStudent(knex(), w.class401, { name: '林小強', studentNumber: '11301003', seat: 3 });
  for (const [student, uid] of [
    [w.student, 'AA01'],
    [w.otherChild, 'AA02'],
    [w.child402, 'AA03'],
    [other.student, 'BB01'],
  ] as const)
    await createCard(knex(), student, { uid });
  await createPhone(knex(), w.student, { number: '0912345678' });
  await createPhone(knex(), w.child402, { number: '0933444555' });
  await createPhone(knex(), other.student, { number: '0977888999' });
  await createHoliday(knex(), w.schoolId, '2026-11-24', '校慶補假');
  const { token } = await createReaderToken(knex(), w.schoolId);
  const { token: otherToken } = await createReaderToken(knex(), other.schoolId);
  const admin = await userFor(knex(), w.admin);
  const teacher = await userFor(knex(), w.teacher401);
  const gateway = new Gateway();
  gateway.failing.add('0933444555');
  const dispatcher = new SmsDispatcher({ knex: knex(), clock, provider: gateway, maxAttempts: 3 });

  // Monday morning: first arrivals, a double tap (kept, no SMS), then the same batch again (a reader's retry).
  at('2026-11-22T23:50:00Z');
  const morning = [
    swipe('m1', 'AA01', '2026-11-23T07:40'),
    swipe('m2', 'AA02', '2026-11-23T07:41'),
    swipe('m3', 'AA03', '2026-11-23T07:42'),
    swipe('m4', 'AA01', '2026-11-23T07:43'),
  ];
  expect((await post(token, morning)).status).toBe(200);
  expect((await post(token, morning)).body.results.map((r: { status: string }) => r.status)).toEqual([
    'duplicate',
    'duplicate',
    'duplicate',
    'duplicate',
  ]);
  expect((await post(otherToken, [swipe('o1', 'BB01', '2026-11-23T07:45')])).status).toBe(200);
  // The dispatcher: 王小明's arrival goes out, 李小華's number is refused for good; the other school's goes out.
  expect(await dispatcher.runOnce()).toMatchObject({ sent: 2, failed: 1 });
  const arrivalMing = await knex()('sms_outbox').where({ student_id: w.student, kind: 'arrival' }).first('id');
  const arrivalHua = await knex()('sms_outbox').where({ student_id: w.child402, kind: 'arrival' }).first('id');
  // 三竹 reports 王小明's arrival delivered.
  at('2026-11-22T23:52:00Z');
  expect((await callback(`m-${arrivalMing.id}`, '4')).status).toBe(200);
  // The office resends 李小華's failed message once the number is fixed; it goes out, then 三竹 says undeliverable.
  gateway.failing.clear();
  at('2026-11-23T00:30:00Z');
  await resendOne(knex(), admin, Number(arrivalHua.id), clock.now(), SCRIPT_ACTOR);
  expect(await dispatcher.runOnce()).toMatchObject({ sent: 1 });
  expect((await callback(`m-${arrivalHua.id}`, '5')).status).toBe(200);
  // A 補登 for 林小強 (no card): added as an arrival, corrected to a departure, then deleted.
  at('2026-11-23T02:00:00Z');
  const entry = await addManualEntry(
    knex(),
    teacher,
    { studentId: qiang, date: '2026-11-23', time: '08:10', direction: 'arrival', reason: '忘記帶卡' },
    RULES,
    SCRIPT_ACTOR,
  );
  expect(entry).toBeDefined();
  expect(
    await correctManualEntry(
      knex(),
      teacher,
      entry!,
      { time: '15:00', direction: 'departure', reason: '時間記錯' },
      RULES,
      SCRIPT_ACTOR,
    ),
  ).toBeDefined();
  expect(await deleteManualEntry(knex(), teacher, entry!, '登錄錯學生', RULES, SCRIPT_ACTOR)).toBeDefined();
  // 訊息發送服務: the teacher writes to class 401 (王小明's verified phone).
  expect(
    await sendMessage(
      knex(),
      teacher,
      { kind: 'class', classId: w.class401 },
      '明天校外教學，請準時到校。',
      clock.now(),
      userActor(teacher),
    ),
  ).toMatchObject({ ok: true, recipients: 1 });
  // Monday afternoon: departures (the message is still queued: the dispatcher does not run again today).
  at('2026-11-23T08:06:00Z');
  expect(
    (await post(token, [swipe('a1', 'AA01', '2026-11-23T16:05'), swipe('a2', 'AA03', '2026-11-23T16:05')])).status,
  ).toBe(200);
  // Tuesday is a holiday: 陳小美 still taps her card.
  at('2026-11-24T01:00:00Z');
  expect((await post(token, [swipe('h1', 'AA02', '2026-11-24T09:00')])).status).toBe(200);
  // Wednesday: a 補登 arrival for 王小明 who forgot his card (no SMS), his departure by card.
  at('2026-11-25T01:00:00Z');
  expect(
    await addManualEntry(
      knex(),
      teacher,
      { studentId: w.student, date: '2026-11-25', time: '08:05', direction: 'arrival', reason: '忘記帶卡' },
      RULES,
      SCRIPT_ACTOR,
    ),
  ).toBeDefined();
  at('2026-11-25T08:10:00Z');
  expect((await post(token, [swipe('w1', 'AA01', '2026-11-25T16:08')])).status).toBe(200);
  return { w, other, qiang };
}

/** The figures as stored, without rows of zeros (a day whose only record was deleted). */
async function storedFigures(schoolId?: number) {
  const q = (t: string) => (schoolId === undefined ? knex()(t) : knex()(t).where('school_id', schoolId));
  const sms = (await q('daily_sms_figures')
    .orderBy(['school_id', 'day'])
    .select('school_id', 'day', 'queued', 'sent', 'delivered', 'failed')) as Record<string, number | string>[];
  const att = (await q('daily_attendance_figures')
    .orderBy(['school_id', 'day'])
    .select('school_id', 'day', 'recorded', 'arrived', 'departed')) as Record<string, number | string>[];
  const nonZero = (r: Record<string, number | string>) =>
    Object.entries(r).some(([k, v]) => k !== 'school_id' && k !== 'day' && v !== 0);
  return { sms: sms.filter(nonZero), attendance: att.filter(nonZero) };
}

/** The figures recounted here, one raw row at a time. */
async function recount(db: Knex, schoolId: number) {
  const sms = new Map<string, { queued: number; sent: number; delivered: number; failed: number }>();
  const outbox = (await db('sms_outbox')
    .where('school_id', schoolId)
    .whereNotNull('student_id')
    .select('status', 'created_at')) as { status: string; created_at: Date }[];
  for (const o of outbox) {
    const d = taipeiDate(new Date(o.created_at));
    const f = sms.get(d) ?? { queued: 0, sent: 0, delivered: 0, failed: 0 };
    f[smsBucket(o.status)] += 1;
    sms.set(d, f);
  }
  // Students with a record (a swipe of theirs or a 補登) per day; of them with an arrival / a departure as stored.
  const records = new Map<string, Set<number>>();
  const add = (d: string, s: number) => records.set(d, (records.get(d) ?? new Set()).add(s));
  for (const s of (await db('swipes')
    .where('school_id', schoolId)
    .whereNotNull('student_id')
    .select('student_id', 'swipe_date')) as { student_id: number; swipe_date: string }[])
    add(s.swipe_date, s.student_id);
  for (const m of (await db('manual_entries as m')
    .join('students as st', 'st.id', 'm.student_id')
    .where('st.school_id', schoolId)
    .select('m.student_id', 'm.entry_date')) as {
    student_id: number;
    entry_date: string;
  }[])
    add(m.entry_date, m.student_id);
  const days = (await db('attendance_days')
    .where('school_id', schoolId)
    .select('day', 'arrival_time', 'departure_time')) as {
    day: string;
    arrival_time: string | null;
    departure_time: string | null;
  }[];
  const attendance = new Map<string, { recorded: number; arrived: number; departed: number }>();
  for (const [d, set] of records) attendance.set(d, { recorded: set.size, arrived: 0, departed: 0 });
  for (const r of days) {
    const f = attendance.get(r.day)!;
    if (r.arrival_time) f.arrived += 1;
    if (r.departure_time) f.departed += 1;
  }
  const sorted = <T>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, v]) => ({ school_id: schoolId, day, ...v }));
  return { sms: sorted(sms), attendance: sorted(attendance) };
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('daily figures kept by the writers', () => {
  it('equal a recount from the raw rows after a mixed sequence, and 統計報表 and 首頁 show them', async () => {
    const { w, other } = await scenario();
    for (const schoolId of [w.schoolId, other.schoolId]) {
      expect(await storedFigures(schoolId)).toEqual(await recount(knex(), schoolId));
      expect(await figureDrift(knex(), schoolId)).toEqual({ sms: 0, attendance: 0 });
    }
    const mine = await recount(knex(), w.schoolId);
    // Every state occurred: the recount is not trivially empty.
    const total = (k: 'queued' | 'sent' | 'delivered' | 'failed') => mine.sms.reduce((a, r) => a + r[k], 0);
    expect([total('delivered'), total('failed'), total('queued')]).toEqual([1, 1, 4]); // 王小明's arrival; 李小華's; the message and three departures
    expect(mine.attendance.map((r) => [r.day, r.recorded, r.arrived, r.departed])).toEqual([
      ['2026-11-23', 3, 3, 2],
      ['2026-11-24', 1, 1, 0],
      ['2026-11-25', 1, 1, 1],
    ]);

    // 統計報表 (the school office): 每日簡訊發送 and 每日刷卡涵蓋率 show the figures; the CSV the same.
    const office = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await office.get('/reports?from=2026-11-23&to=2026-11-25');
    expect(page.status).toBe(200);
    const smsRows = reportRows(page.text, 'sms');
    const monday = mine.sms.find((r) => r.day === '2026-11-23')!;
    expect(smsRows[0]).toEqual([
      '2026-11-23',
      '星期一',
      String(monday.sent + monday.delivered),
      String(monday.delivered),
      String(monday.failed),
      String(monday.queued),
    ]);
    expect(smsRows[1]).toEqual(['2026-11-24', '星期二', '0', '0', '0', '0']);
    const coverage = reportRows(page.text, 'coverage');
    // 4 students enrolled; the holiday shows because 陳小美 has a record on it.
    expect(coverage).toEqual([
      ['2026-11-23', '星期一', '3', '4', '75.0%'],
      ['2026-11-24', '星期二', '1', '4', '25.0%'],
      ['2026-11-25', '星期三', '1', '4', '25.0%'],
    ]);
    const csv = (await office.get('/reports/sms.csv?from=2026-11-23&to=2026-11-25')).text;
    expect(csv).toContain(
      `2026-11-23,星期一,${monday.sent + monday.delivered},${monday.delivered},${monday.failed},${monday.queued}`,
    );
    // A teacher's classes are counted from their rows: 401 has 王小明's messages only.
    const t401 = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const teacherRows = reportRows((await t401.get('/reports?from=2026-11-23&to=2026-11-23')).text, 'sms');
    const ming = (await knex()('sms_outbox')
      .where({ student_id: w.student })
      .where('created_at', '<', '2026-11-23T16:00:00Z')
      .select('status')) as { status: string }[];
    expect(teacherRows[0]).toEqual([
      '2026-11-23',
      '星期一',
      String(ming.filter((o) => ['sent', 'delivered'].includes(o.status)).length),
      String(ming.filter((o) => o.status === 'delivered').length),
      '0',
      String(ming.filter((o) => ['queued', 'sending'].includes(o.status)).length),
    ]);

    // 首頁 on Wednesday: today's SMS of the school (王小明's departure, queued).
    const home = text((await office.get('/')).text);
    expect(home).toContain('今日簡訊：已發送 0 則、發送失敗 0 則、待發送 1 則');
    at('2026-11-23T09:00:00Z'); // back to Monday evening
    const monHome = text(
      (await (await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' })).get('/')).text,
    );
    expect(monHome).toContain(
      `今日簡訊：已發送 ${monday.sent + monday.delivered} 則、發送失敗 ${monday.failed} 則、待發送 ${monday.queued} 則`,
    );
  });

  it('the migration’s backfill gives the same figures as the live updates', async () => {
    await scenario();
    const live = await storedFigures();
    expect(live.sms.length).toBeGreaterThan(2);
    await figuresMigration.down(knex());
    await figuresMigration.up(knex());
    expect(await storedFigures()).toEqual(live);
  });
});

describe('daily figures under concurrency', () => {
  it('concurrent reader batches of two schools and two dispatchers: no deadlock, nothing lost', async () => {
    const schools = [await smsWorld(knex()), await smsWorld(knex())];
    const tokens: string[][] = [];
    const cards: string[][] = [];
    for (const [k, w] of schools.entries()) {
      const uids: string[] = [];
      for (let i = 0; i < 24; i++) {
        const st = await createStudent(knex(), w.class402, {
          name: `學生${i}`,
          studentNumber: `1139${k}${String(i).padStart(3, '0')}`,
          seat: 10 + i,
        });
        await createSubscription(knex(), st, w.periodId, {});
        await createPhone(knex(), st, { number: `09${k}${String(1000000 + i).slice(1)}1`.slice(0, 10) });
        const uid = `C${k}X${i}`;
        await createCard(knex(), st, { uid });
        uids.push(uid);
      }
      cards.push(uids);
      tokens.push([
        (await createReaderToken(knex(), w.schoolId, '正門')).token,
        (await createReaderToken(knex(), w.schoolId, '側門')).token,
      ]);
    }
    at('2026-11-23T08:06:00Z'); // Monday 16:06: the arrivals (07:40) are late (no SMS), the departures are not
    const gateway = new Gateway();
    const dispatchers = [0, 1].map(
      () => new SmsDispatcher({ knex: knex(), clock, provider: gateway, maxAttempts: 3, batchSize: 5 }),
    );
    // Each reader posts 3 batches: every student of its half taps in the morning (a late upload) and at 16:05,
    // and some tap twice; both readers of a school post the overlapping double taps at once.
    const posts: Promise<unknown>[] = [];
    for (const [k, uids] of cards.entries())
      for (const [r, token] of tokens[k]!.entries()) {
        const mine = uids.filter((_, i) => i % 2 === r);
        posts.push(
          (async () => {
            await post(
              token,
              mine.map((u) => swipe(`am-${u}`, u, '2026-11-23T07:40')),
            );
            await post(
              token,
              mine.map((u) => swipe(`pm-${u}`, u, '2026-11-23T16:05')),
            );
            await post(
              token,
              uids.slice(0, 6).map((u) => swipe(`again-${r}-${u}`, u, '2026-11-23T16:06')),
            );
          })(),
        );
      }
    const drain = (async () => {
      for (let i = 0; i < 30; i++) await Promise.all(dispatchers.map((d) => d.runOnce()));
    })();
    await Promise.all([...posts, drain]);
    for (const d of dispatchers) while ((await d.runOnce()).claimed > 0);
    for (const w of schools) {
      expect(await figureDrift(knex(), w.schoolId)).toEqual({ sms: 0, attendance: 0 });
      const f = await storedFigures(w.schoolId);
      expect(f.attendance.map((r) => [r.day, r.recorded, r.arrived, r.departed])).toEqual([['2026-11-23', 24, 24, 24]]);
      expect(f.sms.map((r) => [r.day, r.queued, r.sent])).toEqual([['2026-11-23', 0, 24]]);
    }
  });
});

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    knex: async () => knex(),
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => clock.now(),
  };
  return { ctx, out: () => out.join(''), err: () => err.join('') };
}

describe('npm run admin -- figures:rebuild', () => {
  it('recounts a school whose figures drifted, says how many days differed, and audits it', async () => {
    const { w, other } = await scenario();
    const code = (await knex()('schools').where({ id: w.schoolId }).first('code')).code as string;
    const good = await storedFigures(w.schoolId);
    // Rows written behind the writers' back (a bulk load, a manual fix): the figures no longer match.
    await knex()('daily_sms_figures').where({ school_id: w.schoolId, day: '2026-11-23' }).update({ delivered: 40 });
    await knex()('daily_attendance_figures').where({ school_id: w.schoolId, day: '2026-11-25' }).delete();
    const otherBefore = await storedFigures(other.schoolId);

    const dry = cli();
    expect(await runAdmin(['figures:rebuild', '--school', code, '--dry-run'], dry.ctx)).toBe(0);
    expect(dry.out()).toContain('與原始資料不符：簡訊統計 1 天、出勤統計 1 天');
    expect(await figureDrift(knex(), w.schoolId)).toEqual({ sms: 1, attendance: 1 }); // a dry run writes nothing

    const run = cli();
    expect(await runAdmin(['figures:rebuild', '--school', code], run.ctx)).toBe(0);
    expect(run.out()).toContain('重算前與原始資料不符：簡訊統計 1 天、出勤統計 1 天；已重算');
    expect(await storedFigures(w.schoolId)).toEqual(good);
    expect(await storedFigures(other.schoolId)).toEqual(otherBefore);
    const audit = await knex()('audit_log').where({ action: 'figures.rebuilt' }).first('school_id', 'details');
    expect(audit.school_id).toBe(w.schoolId);
    expect(audit.details).toMatchObject({ via: 'admin script', schools: 1, drift: { sms: 1, attendance: 1 } });

    // One day range only; --all for every school.
    await knex()('daily_sms_figures').where({ school_id: other.schoolId }).update({ queued: 9 });
    const ranged = cli();
    expect(await runAdmin(['figures:rebuild', '--all', '--from', '2026-11-23', '--to', '2026-11-23'], ranged.ctx)).toBe(
      0,
    );
    expect(ranged.out()).toContain('所有學校');
    expect(await figureDrift(knex(), other.schoolId)).toEqual({ sms: 0, attendance: 0 });
  });

  it('refuses wrong options with a clear message and changes nothing', async () => {
    const { w } = await scenario();
    const code = (await knex()('schools').where({ id: w.schoolId }).first('code')).code as string;
    await knex()('daily_sms_figures').where({ school_id: w.schoolId, day: '2026-11-23' }).update({ delivered: 40 });
    const before = await storedFigures();
    const cases: [string[], number, string][] = [
      [['figures:rebuild'], 64, '請指定 --school <學校代碼> 或 --all'],
      [['figures:rebuild', '--all', '--school', code], 64, '--all 與 --school 只能擇一'],
      [['figures:rebuild', '--school', code, '--from', '2026-11-23'], 64, '--from 與 --to 必須一起指定'],
      [
        ['figures:rebuild', '--school', code, '--from', '2026-11-31', '--to', '2026-12-01'],
        65,
        '「2026-11-31」不是有效的日期',
      ],
      [
        ['figures:rebuild', '--school', code, '--from', '2026-11-25', '--to', '2026-11-23'],
        65,
        '開始日期不可晚於結束日期',
      ],
      [['figures:rebuild', '--school', '999999'], 65, '找不到學校代碼 999999'],
    ];
    for (const [argv, exit, message] of cases) {
      const c = cli();
      expect(await runAdmin(argv, c.ctx), argv.join(' ')).toBe(exit);
      expect(c.err()).toContain(message);
    }
    expect(await storedFigures()).toEqual(before);
    expect(await knex()('audit_log').where({ action: 'figures.rebuilt' }).first()).toBeUndefined();
  });
});
