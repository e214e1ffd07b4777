import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { seedDemo, seedReference } from '../../src/db/seed.js';
import { readSchools } from '../../seeds/01_reference.js';
import { DEV_IDP_SUBJECT } from '../../src/domain/accounts/taipei-card.js';
import { verifyPassword } from '../../src/domain/accounts/passwords.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';

// A Thursday morning in Taipei: 2026-11-26 10:00 +08:00.
const clock = new FixedClock('2026-11-26T02:00:00Z');
const PUBLIC_URL = 'http://localhost:3999';

const knex = () => testDb().knex;

async function rowCounts(): Promise<Record<string, number>> {
  const tables = (
    await knex().raw<{ rows: { tablename: string }[] }>(
      `select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_migrations%' order by tablename`,
    )
  ).rows.map((r) => r.tablename);
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const row = await knex()(t).count<{ n: string }[]>({ n: '*' }).first();
    counts[t] = Number(row?.n ?? 0);
  }
  return counts;
}

beforeAll(async () => {
  await resetDb();
  await seedReference(knex(), clock);
  await seedDemo(knex(), clock, { publicUrl: PUBLIC_URL });
});
afterAll(async () => {
  await resetDb();
  await closeTestDb();
});

describe('the reference seed', () => {
  it('loads the 12 districts, the 4 levels and all 304 schools of the CSV', async () => {
    const districts = await knex()('districts').orderBy('sort_order').pluck('name');
    expect(districts).toHaveLength(12);
    expect(districts[0]).toBe('中正區');
    expect(districts).toContain('文山區');
    expect(await knex()('school_levels').orderBy('sort_order').pluck('name')).toEqual(['國小', '國中', '高中', '高職']);
    expect(readSchools()).toHaveLength(304);
    expect(Number((await knex()('schools').count({ n: '*' }).first())?.n)).toBe(304);
  });

  it('keys schools by (code, level): a complete high school keeps its junior-high section under the same code', async () => {
    const shared = await knex()('schools').select('code').groupBy('code').havingRaw('count(*) > 1');
    expect(shared.length).toBeGreaterThan(0);
    const code = shared[0]!.code as string;
    const levels = await knex()('schools').where({ code }).orderBy('level').pluck('level');
    expect(new Set(levels).size).toBe(levels.length);
    await expect(
      knex()('schools').insert({
        code,
        level: levels[0],
        name: '重複',
        district_id: (await knex()('districts').first('id')).id,
      }),
    ).rejects.toThrow(/schools_code_level_unique|duplicate key/);
  });

  it('places 市立忠孝國小 in 中正區 (國小) and 市立景美國中 in 文山區 (國中)', async () => {
    const rows = await knex()('schools as s')
      .join('districts as d', 'd.id', 's.district_id')
      .whereIn('s.name', ['市立忠孝國小', '市立景美國中'])
      .orderBy('s.name')
      .select('s.name', 's.level', 'd.name as district');
    expect(rows).toEqual([
      { name: '市立忠孝國小', level: 'elementary', district: '中正區' },
      { name: '市立景美國中', level: 'junior_high', district: '文山區' },
    ]);
  });
});

describe('the demo seed (the README demo accounts)', () => {
  it('creates every demo account with demo-1234, not forced to change it', async () => {
    const accounts = await knex()('accounts as a')
      .join('schools as s', 's.id', 'a.school_id')
      .orderBy(['s.name', 'a.login'])
      .select('a.role', 'a.login', 'a.display_name', 'a.must_change_password', 'a.password_hash', 's.name as school');
    const byLogin = (login: string) => accounts.find((a) => a.login === login);
    expect(byLogin('11301001')).toMatchObject({ role: 'parent', school: '市立忠孝國小', must_change_password: false });
    expect(byLogin('11301002')).toMatchObject({ role: 'parent', school: '市立忠孝國小' });
    expect(byLogin('t401')).toMatchObject({ role: 'teacher', display_name: '林老師', school: '市立忠孝國小' });
    expect(byLogin('t402')).toMatchObject({ role: 'teacher', display_name: '張老師' });
    expect(byLogin('admin')).toMatchObject({ role: 'school_admin', school: '市立忠孝國小' });
    expect(byLogin('11201001')).toMatchObject({ role: 'parent', school: '市立景美國中' });
    for (const a of accounts) expect(a.must_change_password).toBe(false);
    expect(await verifyPassword('demo-1234', byLogin('t402')!.password_hash)).toBe(true);
    expect(byLogin('11301001')!.password_hash).toMatch(/^\$2[aby]\$12\$/);
  });

  it('puts 王小明 and 陳小美 in 四年一班 (401) under 林老師, and 張老師 only in 402', async () => {
    const rows = await knex()('students as st')
      .join('classes as c', 'c.id', 'st.class_id')
      .whereIn('st.student_number', ['11301001', '11301002', '11201001'])
      .orderBy('st.student_number')
      .select('st.name', 'st.seat_number', 'c.code', 'c.name as class_name');
    expect(rows).toEqual([
      { name: '李小華', seat_number: 1, code: '801', class_name: '八年一班' },
      { name: '王小明', seat_number: 1, code: '401', class_name: '四年一班' },
      { name: '陳小美', seat_number: 2, code: '401', class_name: '四年一班' },
    ]);
    const teacherClasses = await knex()('class_teachers as ct')
      .join('accounts as a', 'a.id', 'ct.account_id')
      .join('classes as c', 'c.id', 'ct.class_id')
      .whereIn('a.login', ['t401', 't402'])
      .orderBy('a.login')
      .select('a.login', 'c.code');
    expect(teacherClasses).toEqual([
      { login: 't401', code: '401' },
      { login: 't402', code: '402' },
    ]);
    const guardian = await knex()('accounts as a')
      .join('guardian_students as gs', 'gs.guardian_id', 'a.guardian_id')
      .join('students as st', 'st.id', 'gs.student_id')
      .where('a.login', '11301001')
      .pluck('st.name');
    expect(guardian).toEqual(['王小明']);
  });

  it('gives 王小明 an active 到校SMS+離校SMS subscription for 115學年度上學期, effective before today, with its approved order and history', async () => {
    const periods = await knex()('service_periods')
      .orderBy('school_id')
      .select('name', 'starts_on', 'ends_on', 'arrival_fee', 'departure_fee');
    expect(periods).toHaveLength(2);
    for (const p of periods)
      expect(p).toEqual({
        name: '115學年度上學期',
        starts_on: '2026-08-31',
        ends_on: '2027-01-20',
        arrival_fee: 150,
        departure_fee: 150,
      });
    const subs = await knex()('subscriptions as sub')
      .join('students as st', 'st.id', 'sub.student_id')
      .select('st.name', 'sub.*');
    expect(subs).toHaveLength(1);
    const sub = subs[0]!;
    expect(sub).toMatchObject({
      name: '王小明',
      status: 'active',
      arrival: true,
      departure: true,
      applicant_name: '系統管理員',
      cancelled_on: null,
    });
    expect(sub.effective_on < clock.today()).toBe(true);
    const request = await knex()('review_requests').where({ subscription_id: sub.id }).first();
    expect(request).toMatchObject({ kind: 'order', status: 'approved', effective_on: sub.effective_on });
    const events = await knex()('subscription_events')
      .where({ subscription_id: sub.id })
      .orderBy('created_at')
      .select('event', 'from_status', 'to_status');
    expect(events).toEqual([
      { event: 'order', from_status: null, to_status: 'pending' },
      { event: 'approve', from_status: 'pending', to_status: 'active' },
    ]);
    // Charged the whole fee (it took effect before the period): 2026-08-31 … 2027-01-20 is 103 school days; paid
    // at the school office the day it was approved, 收據號碼 1.
    expect(sub).toMatchObject({ charge_amount: 300, charge_days: 103, charge_period_days: 103 });
    const decidedOn = (
      await knex()('review_requests')
        .where({ subscription_id: sub.id })
        .first(knex().raw("to_char(decided_at at time zone 'Asia/Taipei', 'YYYY-MM-DD') as d"))
    ).d;
    expect(await knex()('payments').select('subscription_id', 'receipt_number', 'amount', 'paid_on')).toEqual([
      { subscription_id: sub.id, receipt_number: 1, amount: 300, paid_on: decidedOn },
    ]);
    expect(await knex()('receipt_counters').pluck('last_number')).toEqual([1]);
  });

  it('registers 王小明’s verified phone 0912345678 and links the development Taipei Card to 11301001', async () => {
    const phone = await knex()('phones as p')
      .join('students as st', 'st.id', 'p.student_id')
      .first('st.name', 'p.number', 'p.verified_at');
    expect(phone).toMatchObject({ name: '王小明', number: '0912345678' });
    expect(phone.verified_at).not.toBeNull();
    const link = await knex()('taipei_card_identities as i')
      .join('taipei_card_links as l', 'l.identity_id', 'i.id')
      .join('accounts as a', 'a.id', 'l.account_id')
      .first('i.issuer', 'i.subject', 'a.login');
    expect(link).toEqual({ issuer: `${PUBLIC_URL}/dev-idp`, subject: DEV_IDP_SUBJECT, login: '11301001' });
  });

  it('has swipes on the school days of the last four weeks, one 補登 and one 未刷卡 day for 王小明 in the last week, nothing in the future', async () => {
    const ming = await knex()('students').where({ student_number: '11301001' }).first('id');
    const days: string[] = await knex()('swipes')
      .where({ student_id: ming.id })
      .distinct('swipe_date')
      .orderBy('swipe_date', 'desc')
      .pluck('swipe_date');
    const manual = await knex()('manual_entries')
      .where({ student_id: ming.id })
      .select('entry_date', 'direction', 'entry_time');
    expect(manual).toHaveLength(1);
    expect(manual[0]).toMatchObject({ direction: 'arrival', entry_time: '09:11' });
    // The last week's weekdays, 2026-11-20 … 2026-11-26 (today, 10:00: the arrival is there, the departure not yet).
    const lastWeek = ['2026-11-26', '2026-11-25', '2026-11-24', '2026-11-23', '2026-11-20'];
    const missing = lastWeek.filter((d) => !days.includes(d));
    expect(missing).toHaveLength(1); // the 未刷卡 day
    expect(lastWeek).toContain(manual[0].entry_date);
    expect(days).toContain(manual[0].entry_date); // its departure was swiped
    expect(days.at(-1)! >= '2026-10-29').toBe(true);
    expect(days.length).toBeGreaterThanOrEqual(18);
    for (const d of days) expect([0, 6]).not.toContain(new Date(`${d}T00:00:00Z`).getUTCDay());
    const onManualDay = await knex()('swipes')
      .where({ student_id: ming.id, swipe_date: manual[0].entry_date })
      .pluck('swiped_at');
    expect(onManualDay).toHaveLength(1);
    const late = await knex()('swipes').where('swiped_at', '>', clock.now()).count({ n: '*' }).first();
    expect(Number(late?.n)).toBe(0);
    const unmatched = await knex()('swipes').whereNull('student_id').count({ n: '*' }).first();
    expect(Number(unmatched?.n)).toBe(1);
  });

  it('records the SMS that 王小明’s card swipes sent (delivered), and none for others or for the 補登', async () => {
    const ming = await knex()('students').where({ student_number: '11301001' }).first('id');
    const swipes = Number((await knex()('swipes').where({ student_id: ming.id }).count({ n: '*' }).first())?.n);
    const sms = await knex()('sms_outbox')
      .orderBy('created_at')
      .select('student_id', 'kind', 'phone', 'body', 'status');
    expect(sms).toHaveLength(swipes);
    for (const m of sms) expect(m).toMatchObject({ student_id: ming.id, phone: '0912345678', status: 'delivered' });
    expect(sms.filter((m) => m.kind === 'arrival').at(-1)!.body).toBe('【臺北市數位學生證】王小明已於07:30到校。');
    expect(sms.some((m) => m.body.includes('09:11'))).toBe(false);
  });

  it('publishes one bureau and one school announcement', async () => {
    const rows = await knex()('announcements').orderBy('published_at').select('school_id', 'author_name');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ school_id: null, author_name: '臺北市政府教育局' });
    expect(rows[1]!.school_id).not.toBeNull();
  });

  it('leaves the same data when both seeds run a second time', async () => {
    const before = await rowCounts();
    const hashBefore = await knex()('accounts').orderBy('id').pluck('password_hash');
    await seedReference(knex(), clock);
    await seedDemo(knex(), clock, { publicUrl: PUBLIC_URL });
    expect(await rowCounts()).toEqual(before);
    expect(await knex()('accounts').orderBy('id').pluck('password_hash')).toEqual(hashBefore);
    expect(before.schools).toBe(304);
    expect(before.swipes).toBeGreaterThan(20);
  });
});
