/**
 * Demo data of DESIGN §8: two schools, their classes, teachers, office, students, parents, a service period,
 * 王小明's active subscription with its approved order, its history and its payment (收據號碼 1), a verified phone,
 * cards, a reader, the swipes of the recent school days (one 補登, one 未刷卡), a Taipei Card identity and two
 * announcements.
 *
 * Everything is relative to the app's today (ctx.clock) and idempotent: every row is looked up by its natural
 * key and inserted only when missing (or brought back to the demo values), so a second run changes nothing.
 * Password of every demo account: `demo-1234` (not forced to change).
 */
import { refreshDays } from '../src/domain/attendance/days.js';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { SeedContext } from '../src/db/seed.js';
import { hashPassword } from '../src/domain/accounts/passwords.js';
import { DEV_IDP_NAME, DEV_IDP_SUBJECT, devIssuer } from '../src/domain/accounts/taipei-card.js';
import { hashReaderToken, TOKEN_PREFIX_LENGTH } from '../src/domain/readers/reader-tokens.js';
import { attendanceNoticeBody } from '../src/domain/sms/attendance-notices.js';
import { countSmsChanges } from '../src/domain/reports/daily-figures.js';
import { addDays, isWeekend, taipeiInstant } from '../src/domain/time.js';
import { loadHolidays } from '../src/domain/schools/school-calendar.js';
import { feeOf, orderCharge } from '../src/domain/subscriptions/lifecycle.js';

export const DEMO_PASSWORD = 'demo-1234';

const SCHOOL_YEAR = 115;
const PERIOD = {
  name: '115學年度上學期',
  starts_on: '2026-08-31',
  ends_on: '2027-01-20',
  arrival_fee: 150,
  departure_fee: 150,
};
const CARD_VALID_FROM = '2026-08-01';

interface DemoSchool {
  name: string;
  level: string;
  district: string;
  short: string;
  classes: { code: string; name: string; grade: number; teacher: { login: string; name: string } }[];
  admin?: { login: string; name: string };
  students: { number: string; name: string; classCode: string; seat: number; guardian?: string }[];
}

const SCHOOLS: DemoSchool[] = [
  {
    name: '市立忠孝國小',
    level: 'elementary',
    district: '中正區',
    short: '忠孝國小',
    classes: [
      { code: '401', name: '四年一班', grade: 4, teacher: { login: 't401', name: '林老師' } },
      { code: '402', name: '四年二班', grade: 4, teacher: { login: 't402', name: '張老師' } },
    ],
    admin: { login: 'admin', name: '忠孝國小教務處' },
    students: [
      { number: '11301001', name: '王小明', classCode: '401', seat: 1, guardian: '王大明' },
      { number: '11301002', name: '陳小美', classCode: '401', seat: 2, guardian: '陳美玲' },
      { number: '11301003', name: '林小安', classCode: '402', seat: 1 },
      { number: '11301004', name: '黃小宇', classCode: '402', seat: 2 },
    ],
  },
  {
    name: '市立景美國中',
    level: 'junior_high',
    district: '文山區',
    short: '景美國中',
    classes: [{ code: '801', name: '八年一班', grade: 8, teacher: { login: 't801', name: '吳老師' } }],
    students: [{ number: '11201001', name: '李小華', classCode: '801', seat: 1, guardian: '李大同' }],
  },
];

/** Upsert by a natural key: the id of the row matching `key`, inserted (key + values) when missing, else updated. */
async function upsert(
  knex: Knex,
  table: string,
  key: Record<string, unknown>,
  values: Record<string, unknown> = {},
): Promise<number> {
  const found = await knex(table).where(key).first('id');
  if (found) {
    if (Object.keys(values).length > 0) await knex(table).where({ id: found.id }).update(values);
    return found.id as number;
  }
  const [row] = await knex(table)
    .insert({ ...key, ...values })
    .returning('id');
  return row.id as number;
}

/** The recent school days (weekdays) before today, most recent first. */
function recentSchoolDays(today: string, back: number): string[] {
  const days: string[] = [];
  for (let i = 1; i <= back; i++) {
    const d = addDays(today, -i);
    if (!isWeekend(d)) days.push(d);
  }
  return days;
}

const hhmm = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;

export async function seed(knex: Knex, ctx: SeedContext): Promise<void> {
  const today = ctx.clock.today();
  const now = ctx.clock.now();
  let hash: string | undefined;
  const passwordHash = async () => (hash ??= await hashPassword(DEMO_PASSWORD));

  const accountIds = new Map<string, number>(); // `${school}/${login}` → account id
  const studentIds = new Map<string, number>(); // 學號 → student id
  const schoolIds = new Map<string, number>(); // short name → school id
  const periodIds = new Map<string, number>();

  /** An account by (role, school, login); the password is set only when the account is created. */
  const account = async (role: string, schoolId: number, login: string, displayName: string, guardianId?: number) => {
    const found = await knex('accounts').where({ role, school_id: schoolId, login }).first('id');
    if (found) {
      await knex('accounts').where({ id: found.id }).update({ display_name: displayName });
      return found.id as number;
    }
    const [row] = await knex('accounts')
      .insert({
        role,
        school_id: schoolId,
        login,
        display_name: displayName,
        guardian_id: guardianId ?? null,
        password_hash: await passwordHash(),
        must_change_password: false,
      })
      .returning('id');
    return row.id as number;
  };

  for (const s of SCHOOLS) {
    const school = await knex('schools as s')
      .join('districts as d', 'd.id', 's.district_id')
      .where({ 's.name': s.name, 's.level': s.level, 'd.name': s.district })
      .first('s.id');
    if (!school)
      throw new Error(`demo seed: ${s.name} (${s.district} ${s.level}) is missing: run the reference seed first`);
    const schoolId = school.id as number;
    schoolIds.set(s.short, schoolId);

    const classIds = new Map<string, number>();
    for (const c of s.classes) {
      const classId = await upsert(
        knex,
        'classes',
        { school_id: schoolId, school_year: SCHOOL_YEAR, code: c.code },
        { name: c.name, grade: c.grade },
      );
      classIds.set(c.code, classId);
      const teacherId = await account('teacher', schoolId, c.teacher.login, c.teacher.name);
      accountIds.set(`${s.short}/${c.teacher.login}`, teacherId);
      await knex('class_teachers')
        .insert({ class_id: classId, account_id: teacherId })
        .onConflict(['class_id', 'account_id'])
        .ignore();
    }
    if (s.admin)
      accountIds.set(
        `${s.short}/${s.admin.login}`,
        await account('school_admin', schoolId, s.admin.login, s.admin.name),
      );

    for (const st of s.students) {
      const classId = classIds.get(st.classCode)!;
      const studentId = await upsert(
        knex,
        'students',
        { school_id: schoolId, student_number: st.number },
        { class_id: classId, seat_number: st.seat, name: st.name },
      );
      studentIds.set(st.number, studentId);
      if (st.guardian) {
        // A parent account's login is the child's 學號; the guardian is found through it.
        const existing = await knex('accounts')
          .where({ role: 'parent', school_id: schoolId, login: st.number })
          .first('id', 'guardian_id');
        let guardianId = existing?.guardian_id as number | undefined;
        if (guardianId === undefined) {
          const [g] = await knex('guardians').insert({ name: st.guardian }).returning('id');
          guardianId = g.id as number;
        } else {
          await knex('guardians').where({ id: guardianId }).update({ name: st.guardian });
        }
        await knex('guardian_students')
          .insert({ guardian_id: guardianId, student_id: studentId, relationship: '家長' })
          .onConflict(['guardian_id', 'student_id'])
          .ignore();
        accountIds.set(
          `${s.short}/${st.number}`,
          await account('parent', schoolId, st.number, st.guardian, guardianId),
        );
      }
      await upsert(
        knex,
        'cards',
        { card_uid: `DEMO-${st.number}`, student_id: studentId },
        { valid_from: CARD_VALID_FROM, valid_until: null },
      );
    }

    periodIds.set(
      s.short,
      await upsert(
        knex,
        'service_periods',
        { school_id: schoolId, name: PERIOD.name },
        {
          starts_on: PERIOD.starts_on,
          ends_on: PERIOD.ends_on,
          arrival_fee: PERIOD.arrival_fee,
          departure_fee: PERIOD.departure_fee,
        },
      ),
    );
  }

  const zhongxiao = schoolIds.get('忠孝國小')!;
  const ming = studentIds.get('11301001')!;
  const mingParent = accountIds.get('忠孝國小/11301001')!;
  const t401 = accountIds.get('忠孝國小/t401')!;

  // 王小明: an order by 系統管理員, approved by 林老師 the next day, effective the day after (before today).
  const appliedOn = [addDays(today, -3), '2026-08-20'].sort()[0]!;
  const decidedOn = addDays(appliedOn, 1);
  const effectiveOn = addDays(decidedOn, 1);
  const subscriptionId = await upsert(
    knex,
    'subscriptions',
    { student_id: ming, period_id: periodIds.get('忠孝國小')! },
    {
      arrival: true,
      departure: true,
      status: 'active',
      applicant_account_id: null,
      applicant_name: '系統管理員',
      applied_on: appliedOn,
      effective_on: effectiveOn,
      cancelled_on: null,
    },
  );
  const requestedAt = taipeiInstant(appliedOn, '10:00');
  const decidedAt = taipeiInstant(decidedOn, '08:15');
  const requestId = await upsert(
    knex,
    'review_requests',
    { subscription_id: subscriptionId, kind: 'order' },
    {
      status: 'approved',
      requested_by_account_id: null,
      requested_by_name: '系統管理員',
      requested_on: appliedOn,
      requested_at: requestedAt,
      decided_by_account_id: t401,
      decided_at: decidedAt,
      decision_reason: null,
      effective_on: effectiveOn,
    },
  );
  await upsert(
    knex,
    'subscription_events',
    { subscription_id: subscriptionId, request_id: requestId, event: 'order' },
    {
      from_status: null,
      to_status: 'pending',
      actor_account_id: null,
      actor_role: 'system',
      actor_name: '系統管理員',
      created_at: requestedAt,
    },
  );
  await upsert(
    knex,
    'subscription_events',
    { subscription_id: subscriptionId, request_id: requestId, event: 'approve' },
    {
      from_status: 'pending',
      to_status: 'active',
      actor_account_id: t401,
      actor_role: 'teacher',
      actor_name: '林老師',
      created_at: decidedAt,
    },
  );

  // The order's charge as its approval fixed it (the whole fee: it took effect before the period's first day), and
  // its payment at the school office on the day of the approval: 收據號碼 1 of 忠孝國小.
  const charge = orderCharge(
    feeOf({ arrival: true, departure: true, arrival_fee: PERIOD.arrival_fee, departure_fee: PERIOD.departure_fee }),
    PERIOD,
    effectiveOn,
    await loadHolidays(knex, zhongxiao, PERIOD.starts_on, PERIOD.ends_on),
  );
  await knex('subscriptions')
    .where({ id: subscriptionId })
    .update({ charge_amount: charge.amount, charge_days: charge.days, charge_period_days: charge.periodDays });
  await upsert(
    knex,
    'payments',
    { subscription_id: subscriptionId },
    {
      school_id: zhongxiao,
      receipt_number: 1,
      paid_on: decidedOn,
      amount: charge.amount,
      recorded_by_account_id: accountIds.get('忠孝國小/admin') ?? null,
    },
  );
  await knex.raw(
    `insert into receipt_counters (school_id, last_number) values (?, 1)
     on conflict (school_id) do update set last_number = greatest(receipt_counters.last_number, excluded.last_number)`,
    [zhongxiao],
  );

  // 王小明's verified phone.
  await upsert(
    knex,
    'phones',
    { student_id: ming, number: '0912345678' },
    {
      registered_by_account_id: mingParent,
      verified_at: taipeiInstant(appliedOn, '10:05'),
      code_hash: null,
      code_expires_at: null,
      code_attempts: 0,
    },
  );

  // The development identity provider's one user (0912345678 / parent@example.com), already linked to 11301001.
  const identityId = await upsert(
    knex,
    'taipei_card_identities',
    { issuer: devIssuer({ publicUrl: ctx.publicUrl.replace(/\/+$/, '') }), subject: DEV_IDP_SUBJECT },
    { display_name: DEV_IDP_NAME },
  );
  await knex('taipei_card_links')
    .insert({ identity_id: identityId, account_id: mingParent })
    .onConflict(['identity_id', 'account_id'])
    .ignore();

  // A gate reader per school. Its token is random and not kept: create a usable one with the admin script.
  const readerIds = new Map<string, number>();
  for (const [short, schoolId] of schoolIds) {
    const found = await knex('card_readers').where({ school_id: schoolId, name: '校門口讀卡機（示範）' }).first('id');
    if (found) {
      readerIds.set(short, found.id as number);
      continue;
    }
    const token = randomBytes(32).toString('base64url');
    const [row] = await knex('card_readers')
      .insert({
        school_id: schoolId,
        name: '校門口讀卡機（示範）',
        token_hash: hashReaderToken(token),
        token_prefix: token.slice(0, TOKEN_PREFIX_LENGTH),
      })
      .returning('id');
    readerIds.set(short, row.id as number);
  }

  // Swipes of the school days of the last four weeks: arrival 07:3x, departure 16:0x. In the last week 王小明 has
  // one 補登 day (09:11, the card forgotten) and one 未刷卡 day, 陳小美 one 未刷卡 day. Today's swipes are there
  // once their time has passed. 王小明's card swipes sent their SMS (delivered) while his subscription was on.
  const days = recentSchoolDays(today, 28);
  if (!isWeekend(today)) days.unshift(today);
  const pastDays = days.filter((d) => d !== today);
  const mingManualDay = pastDays[1];
  const mingMissingDay = pastDays[3];
  const meiMissingDay = pastDays[0];
  const swipeRows: Record<string, unknown>[] = [];
  const smsRows: Record<string, unknown>[] = [];
  const addSwipe = (
    short: string,
    number: string,
    studentId: number | null,
    date: string,
    time: string,
    dir: 'a' | 'd' | 'x',
    cardUid?: string,
  ) => {
    const at = taipeiInstant(date, time);
    if (at.getTime() > now.getTime()) return;
    if (
      studentId === ming &&
      dir !== 'x' &&
      date >= effectiveOn &&
      date >= PERIOD.starts_on &&
      date <= PERIOD.ends_on
    ) {
      const direction = dir === 'a' ? 'arrival' : 'departure';
      smsRows.push({
        school_id: zhongxiao,
        student_id: ming,
        kind: direction,
        phone: '0912345678',
        body: attendanceNoticeBody('王小明', direction, time),
        dedupe_key: `${direction}:${ming}:${date}:0912345678`,
        status: 'delivered',
        attempts: 1,
        next_attempt_at: at,
        provider: 'log',
        provider_message_id: `log-demo-${date}-${dir}`,
        created_at: at,
        sent_at: new Date(at.getTime() + 3000),
        delivered_at: new Date(at.getTime() + 8000),
      });
    }
    swipeRows.push({
      reader_id: readerIds.get(short)!,
      school_id: schoolIds.get(short)!,
      event_id: `demo-${number}-${date}-${dir}`,
      card_uid: cardUid ?? `DEMO-${number}`,
      swiped_at: at,
      swipe_date: date,
      received_at: new Date(at.getTime() + 2000),
      student_id: studentId,
    });
  };
  SCHOOLS.forEach((s, si) =>
    s.students.forEach((st, i) => {
      days.forEach((date, di) => {
        if (st.number === '11301001' && date === mingMissingDay) return;
        if (st.number === '11301002' && date === meiMissingDay) return;
        const studentId = studentIds.get(st.number)!;
        if (!(st.number === '11301001' && date === mingManualDay)) {
          addSwipe(s.short, st.number, studentId, date, hhmm(7, 30 + ((di * 7 + i * 3 + si * 5) % 20)), 'a');
        }
        addSwipe(s.short, st.number, studentId, date, hhmm(16, (di * 3 + i * 5 + si) % 10), 'd');
      });
    }),
  );
  // One swipe of a card nobody has (未對應刷卡), for the school office to resolve.
  if (pastDays[0]) addSwipe('忠孝國小', 'unknown', null, pastDays[0], '07:41', 'x', 'DEMO-UNKNOWN-0001');
  for (let i = 0; i < swipeRows.length; i += 200) {
    await knex('swipes')
      .insert(swipeRows.slice(i, i + 200))
      .onConflict(['reader_id', 'event_id'])
      .ignore();
  }
  if (smsRows.length > 0) {
    // Counted in the school's daily figures in the same transaction, like every queued message.
    await knex.transaction(async (trx) => {
      const inserted = (await trx('sms_outbox')
        .insert(smsRows)
        .onConflict('dedupe_key')
        .ignore()
        .returning(['school_id', 'student_id', 'created_at', 'status'])) as {
        school_id: number;
        student_id: number;
        created_at: Date;
        status: string;
      }[];
      await countSmsChanges(
        trx,
        inserted.map((r) => ({
          schoolId: r.school_id,
          studentId: r.student_id,
          createdAt: r.created_at,
          from: null,
          to: r.status,
        })),
      );
    });
  }

  // The 補登 of 王小明's forgotten card, like the guide's `補登 09:11`.
  if (mingManualDay) {
    await upsert(
      knex,
      'manual_entries',
      { student_id: ming, entry_date: mingManualDay, direction: 'arrival' },
      { entry_time: '09:11', reason: '忘記帶卡，導師補登', entered_by_account_id: t401 },
    );
  }

  // The computed days of every student-day with a record (as the reader API and 補登 keep them).
  const keys = (await knex('swipes').whereNotNull('student_id').distinct('student_id', 'swipe_date')) as {
    student_id: number;
    swipe_date: string;
  }[];
  if (mingManualDay) keys.push({ student_id: ming, swipe_date: mingManualDay });
  await refreshDays(
    knex,
    keys.map((k) => ({ studentId: k.student_id, date: k.swipe_date })),
    { departureMinMinutes: 10 },
  );

  // One announcement from the bureau (every school) and one from 忠孝國小.
  await upsert(
    knex,
    'announcements',
    { school_id: null, title: '到離校簡訊服務115學年度上學期開放申請' },
    {
      body:
        '115學年度上學期到離校簡訊服務（2026-08-31~2027-01-20）開放家長申請，到校SMS、離校SMS各新臺幣150元。\n' +
        '請由「到離校簡訊服務」→「到離校簡訊訂購服務」按「新增申請」，經導師審核後隔日生效。\n' +
        '如有問題，請洽臺北市民當家熱線 1999 轉分機 8585。',
      pinned: true,
      author_account_id: null,
      author_name: '臺北市政府教育局',
      published_at: taipeiInstant(addDays(today, -20), '09:00'),
    },
  );
  await upsert(
    knex,
    'announcements',
    { school_id: zhongxiao, title: '請家長提醒學生每日進出校門刷卡' },
    {
      body:
        '為使到離校簡訊正常通知，請提醒孩子每日到校及放學時於校門口讀卡機刷數位學生證。\n' +
        '卡片遺失或損壞，請洽學校教務處補發。',
      pinned: false,
      author_account_id: accountIds.get('忠孝國小/admin') ?? null,
      author_name: '忠孝國小教務處',
      published_at: taipeiInstant(addDays(today, -2), '08:30'),
    },
  );
}
