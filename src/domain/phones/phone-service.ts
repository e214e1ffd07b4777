/**
 * 到離校簡訊註冊服務: the phones that receive a student's SMS. A parent adds a number (at most 3 per student,
 * counted under a row lock on the student), proves it with a 6-digit code sent to it by SMS (through the
 * outbox, kind 'verification'), and may remove it. Only verified numbers receive notices.
 *
 * Every statement carries the parent's scope (visibleStudentIds) in its WHERE: another family's phone is
 * "not found". Codes are stored as an HMAC (keyed with the session secret, bound to the phone id), expire
 * after 10 minutes and allow 5 tries; a new code may be asked for once a minute.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { NotFoundError } from '../errors.js';
import { enqueue } from '../sms/outbox-status.js';
import { myClasses, visibleStudentIds } from '../scope.js';
import { maskPhone, normalisePhone } from './phone-number.js';

export const MAX_PHONES_PER_STUDENT = 3;
export const CODE_TTL_MS = 10 * 60_000;
export const CODE_MAX_TRIES = 5;
export const RESEND_INTERVAL_MS = 60_000;
/** Codes sent to one phone in a day, whatever the resends (keeps SMS cost and abuse bounded). */
export const CODES_PER_DAY = 10;

export interface PhoneRow {
  id: number;
  studentId: number;
  number: string;
  verified: boolean;
  codeExpiresAt: Date | null;
  codeAttempts: number;
  codeSentAt: Date | null;
}

export type PhoneError =
  | { kind: 'invalid'; message: string }
  | { kind: 'limit'; message: string }
  | { kind: 'duplicate'; message: string }
  | { kind: 'wait'; message: string; seconds: number }
  | { kind: 'expired'; message: string }
  | { kind: 'tries'; message: string }
  | { kind: 'wrong'; message: string; left: number }
  | { kind: 'verified'; message: string };

export type Result<T> = { ok: true; value: T } | { ok: false; error: PhoneError };

export interface PhoneContext {
  knex: Knex;
  user: CurrentUser;
  now: Date;
  secret: string;
  /** Who acts: each change is audited in its transaction. */
  actor: Actor;
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: PhoneError): Result<T> => ({ ok: false, error });

export function verificationBody(code: string): string {
  return `【臺北市數位學生證】您的手機驗證碼為${code}，10分鐘內有效，請勿提供給他人。`;
}

export function hashCode(secret: string, phoneId: number, code: string): string {
  return createHmac('sha256', secret).update(`phone-verification:${phoneId}:${code}`).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

const toRow = (r: Record<string, unknown>): PhoneRow => ({
  id: r.id as number,
  studentId: r.student_id as number,
  number: r.number as string,
  verified: r.verified_at != null,
  codeExpiresAt: (r.code_expires_at as Date | null) ?? null,
  codeAttempts: r.code_attempts as number,
  codeSentAt: (r.code_sent_at as Date | null) ?? null,
});

/**
 * "Has a verified phone" — the one rule for whether a student's SMS can arrive at all: a SQL expression over a
 * student id column (e.g. `st.id`), for lists that mark a student without one (審核's 尚無已驗證手機).
 */
export function hasVerifiedPhoneSql(knex: Knex, studentIdColumn: string): Knex.Raw {
  return knex.raw(`exists (select 1 from phones vp where vp.student_id = ?? and vp.verified_at is not null)`, [
    studentIdColumn,
  ]);
}

/** Of these students (within the user's scope), the ones with no verified phone: ordering for them warns. */
export async function studentsWithoutVerifiedPhone(
  knex: Knex,
  user: CurrentUser,
  studentIds: number[],
): Promise<Set<number>> {
  if (studentIds.length === 0) return new Set();
  const verified = await knex('phones as p')
    .whereIn('p.student_id', studentIds)
    .whereIn('p.student_id', visibleStudentIds(knex, user))
    .whereNotNull('p.verified_at')
    .distinct('p.student_id')
    .pluck('p.student_id');
  const has = new Set<number>(verified as number[]);
  return new Set(studentIds.filter((id) => !has.has(id)));
}

/** The phones of the students this user may see, by student id. */
export async function phonesByStudent(
  knex: Knex,
  user: CurrentUser,
  studentIds: number[],
): Promise<Map<number, PhoneRow[]>> {
  const rows = await knex('phones as p')
    .whereIn('p.student_id', studentIds)
    .whereIn('p.student_id', visibleStudentIds(knex, user))
    .orderBy(['p.student_id', 'p.id'])
    .select('p.*');
  const out = new Map<number, PhoneRow[]>(studentIds.map((id) => [id, []]));
  for (const r of rows) out.get(r.student_id as number)?.push(toRow(r));
  return out;
}

/** A new 6-digit code: stored hashed, queued to the number as an SMS. Runs inside the caller's transaction. */
async function issueCode(
  trx: Knex.Transaction,
  c: PhoneContext,
  phone: { id: number; student_id: number; number: string },
) {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await trx('phones')
    .where({ id: phone.id })
    .update({
      code_hash: hashCode(c.secret, phone.id, code),
      code_expires_at: new Date(c.now.getTime() + CODE_TTL_MS),
      code_attempts: 0,
      code_sent_at: c.now,
    });
  const student = await trx('students').where({ id: phone.student_id }).first('school_id');
  await enqueue(trx, [
    {
      schoolId: student?.school_id ?? null,
      studentId: phone.student_id,
      kind: 'verification',
      phone: phone.number,
      body: verificationBody(code),
      at: c.now,
    },
  ]);
  return code;
}

/**
 * May a verification code be sent to this number now? Counted per NUMBER over every student and family, so
 * removing and adding a number again (or adding it for another child) does not reset the limits: at most one
 * code a minute and CODES_PER_DAY in 24 hours to any one number.
 */
async function codeBudget(trx: Knex.Transaction, number: string, now: Date): Promise<PhoneError | undefined> {
  const row = (await trx('sms_outbox')
    .where({ kind: 'verification', phone: number })
    .where('created_at', '>', new Date(now.getTime() - 24 * 3600_000))
    .first(trx.raw('count(*)::int as n'), trx.raw('max(created_at) as last'))) as
    | { n: number; last: Date | null }
    | undefined;
  if (row?.last) {
    const waitMs = new Date(row.last).getTime() + RESEND_INTERVAL_MS - now.getTime();
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      return { kind: 'wait', seconds, message: `驗證碼剛剛已傳送到這個號碼，請 ${seconds} 秒後再試。` };
    }
  }
  if ((row?.n ?? 0) >= CODES_PER_DAY) {
    return { kind: 'wait', seconds: 86_400, message: '今天已傳送太多次驗證碼到這個號碼，請明天再試，或洽學校協助。' };
  }
  return undefined;
}

/** Lock one phone of this parent's children (FOR UPDATE), or nothing if it is not theirs. */
async function lockPhone(trx: Knex.Transaction, c: PhoneContext, phoneId: number) {
  return trx('phones as p')
    .where('p.id', phoneId)
    .whereIn('p.student_id', visibleStudentIds(trx, c.user))
    .forUpdate()
    .first('p.*');
}

/**
 * Register a number for a child and send it a code. `undefined` = the student is not this parent's (404).
 */
export async function addPhone(
  c: PhoneContext,
  studentId: number,
  input: string,
): Promise<Result<PhoneRow> | undefined> {
  if (c.user.role !== 'parent') return undefined;
  const parsed = normalisePhone(input);
  return c.knex.transaction(async (trx) => {
    // The row lock on the student (FOR NO KEY UPDATE: it conflicts with itself, as the swipe ingestion's does,
    // but not with rows merely referencing the student) serialises concurrent additions, so the count below
    // cannot be raced past 3.
    const student = await trx('students as st')
      .where('st.id', studentId)
      .whereIn('st.id', visibleStudentIds(trx, c.user))
      .forNoKeyUpdate()
      .first('st.id');
    if (!student) return undefined;
    if (!parsed.ok) return fail<PhoneRow>({ kind: 'invalid', message: parsed.message });
    const existing = await trx('phones').where({ student_id: studentId }).select('number');
    if (existing.some((p) => p.number === parsed.number)) {
      return fail<PhoneRow>({ kind: 'duplicate', message: '此手機號碼已經註冊。' });
    }
    if (existing.length >= MAX_PHONES_PER_STUDENT) {
      return fail<PhoneRow>({
        kind: 'limit',
        message: `每位學生最多註冊 ${MAX_PHONES_PER_STUDENT} 支手機號碼，請先刪除不用的號碼。`,
      });
    }
    // The number itself is locked for the check below, so two additions at once cannot both pass it.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`phone-verification:${parsed.number}`]);
    const refused = await codeBudget(trx, parsed.number, c.now);
    if (refused) return fail<PhoneRow>(refused);
    const [row] = await trx('phones')
      .insert({
        student_id: studentId,
        number: parsed.number,
        registered_by_account_id: c.user.accountId,
        created_at: c.now,
      })
      .returning('*');
    await issueCode(trx, c, row);
    await audit(trx, c.actor, {
      action: 'phone.added',
      targetType: 'phone',
      targetId: row.id,
      details: { studentId, number: maskPhone(parsed.number) },
    });
    const fresh = await trx('phones').where({ id: row.id }).first();
    return ok(toRow(fresh));
  });
}

/** Check a code. `undefined` = not this parent's phone (404). */
export async function verifyPhone(
  c: PhoneContext,
  phoneId: number,
  code: string,
): Promise<Result<PhoneRow> | undefined> {
  if (c.user.role !== 'parent') return undefined;
  return c.knex.transaction(async (trx) => {
    const p = await lockPhone(trx, c, phoneId);
    if (!p) return undefined;
    if (p.verified_at) return fail<PhoneRow>({ kind: 'verified', message: '此號碼已完成驗證。' });
    if (!p.code_hash || !p.code_expires_at) {
      return fail<PhoneRow>({ kind: 'expired', message: '請先按「重新傳送驗證碼」取得驗證碼。' });
    }
    if (p.code_attempts >= CODE_MAX_TRIES) {
      return fail<PhoneRow>({ kind: 'tries', message: '驗證碼錯誤次數過多，請按「重新傳送驗證碼」取得新的驗證碼。' });
    }
    if (new Date(p.code_expires_at).getTime() <= c.now.getTime()) {
      return fail<PhoneRow>({
        kind: 'expired',
        message: '驗證碼已過期（有效時間 10 分鐘），請按「重新傳送驗證碼」取得新的驗證碼。',
      });
    }
    const clean = code.normalize('NFKC').replace(/\s/g, '');
    if (/^\d{6}$/.test(clean) && sameHash(hashCode(c.secret, p.id, clean), p.code_hash)) {
      await trx('phones')
        .where({ id: p.id })
        .update({ verified_at: c.now, code_hash: null, code_expires_at: null, code_attempts: 0 });
      await audit(trx, c.actor, {
        action: 'phone.verified',
        targetType: 'phone',
        targetId: p.id,
        details: { number: maskPhone(p.number) },
      });
      return ok(toRow(await trx('phones').where({ id: p.id }).first()));
    }
    const attempts = (p.code_attempts as number) + 1;
    await trx('phones').where({ id: p.id }).update({ code_attempts: attempts });
    const left = CODE_MAX_TRIES - attempts;
    return fail<PhoneRow>(
      left > 0
        ? { kind: 'wrong', left, message: `驗證碼錯誤，還可以再試 ${left} 次。` }
        : { kind: 'tries', message: '驗證碼錯誤次數過多，請按「重新傳送驗證碼」取得新的驗證碼。' },
    );
  });
}

/** Send a new code (within the number's codeBudget). `undefined` = not this parent's phone (404). */
export async function resendCode(c: PhoneContext, phoneId: number): Promise<Result<PhoneRow> | undefined> {
  if (c.user.role !== 'parent') return undefined;
  return c.knex.transaction(async (trx) => {
    const p = await lockPhone(trx, c, phoneId);
    if (!p) return undefined;
    if (p.verified_at) return fail<PhoneRow>({ kind: 'verified', message: '此號碼已完成驗證。' });
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`phone-verification:${p.number}`]);
    const refused = await codeBudget(trx, p.number, c.now);
    if (refused) return fail<PhoneRow>(refused);
    await issueCode(trx, c, p);
    await audit(trx, c.actor, {
      action: 'phone.code_sent',
      targetType: 'phone',
      targetId: p.id,
      details: { number: maskPhone(p.number) },
    });
    return ok(toRow(await trx('phones').where({ id: p.id }).first()));
  });
}

/** Remove a number. `undefined` = not this parent's phone (404). */
export async function removePhone(c: PhoneContext, phoneId: number): Promise<PhoneRow | undefined> {
  if (c.user.role !== 'parent') return undefined;
  return c.knex.transaction(async (trx) => {
    const p = await lockPhone(trx, c, phoneId);
    if (!p) return undefined;
    await trx('phones').where({ id: p.id }).del();
    await audit(trx, c.actor, {
      action: 'phone.removed',
      targetType: 'phone',
      targetId: p.id,
      details: { studentId: p.student_id, number: maskPhone(p.number) },
    });
    return toRow(p);
  });
}

/**
 * Staff: the students of one of their classes (the first when none or another is asked for) with their numbers,
 * masked here so the whole number never reaches a page.
 */
export async function classPhones(knex: Knex, user: CurrentUser, asked: number | undefined) {
  const classes = await myClasses(knex, user);
  // Another class (not the teacher's, or of another school) is not found, as everywhere.
  if (asked !== undefined && !classes.some((c) => c.id === asked)) throw new NotFoundError();
  const classId = asked ?? classes[0]?.id;
  const students = classId
    ? await knex('students as st')
        .where('st.class_id', classId)
        .whereIn('st.id', visibleStudentIds(knex, user))
        .orderBy('st.seat_number')
        .select('st.id', 'st.seat_number', 'st.name', 'st.student_number')
    : [];
  const phones = students.length
    ? await knex('phones as p')
        .whereIn(
          'p.student_id',
          students.map((s) => s.id as number),
        )
        .whereIn('p.student_id', visibleStudentIds(knex, user))
        .orderBy(['p.student_id', 'p.id'])
        .select('p.student_id', 'p.number', 'p.verified_at')
    : [];
  const rows = students.map((s) => ({
    seat: s.seat_number as number,
    name: s.name as string,
    studentNumber: s.student_number as string,
    phones: phones
      .filter((p) => p.student_id === s.id)
      .map((p) => ({ masked: maskPhone(p.number as string), verified: p.verified_at != null })),
  }));
  return { classes, classId, rows };
}
