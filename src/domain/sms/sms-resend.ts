/**
 * 重新發送: the school office sends a failed SMS again — one message, or every failed message of a day of its
 * school. A resend is a new attempt of the SAME outbox row (never a second copy): one conditional UPDATE
 * `… where status = 'failed' and school_id = <the office's school>` puts it back to 'queued', due now, and
 * starts a new round of SMS_MAX_ATTEMPTS from `attempts_before_resend = attempts`; `attempts` keeps counting
 * every try (傳送次數 on the page). The update (outbox-status.ts), its audit row and the school's daily figures
 * commit together.
 *
 * Refused, with nothing changed: a message that is not 'failed' (queued, sending, sent, delivered — a
 * concurrent resend loses here too), and a verification code (its code has expired and is no longer stored:
 * the parent asks for a new one). Teachers see their classes' messages but do not resend: the service is the
 * school office's. Another school's message does not exist (404).
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { DomainError, NotFoundError } from '../errors.js';
import { addDays, startOfTaipeiDay } from '../time.js';
import { SMS_STATUS_LABELS } from './sms-words.js';
import { requeueFailed } from './outbox-status.js';

/** A resend that cannot be done, with the words the office reads. */
export class ResendRefused extends DomainError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ResendRefused';
  }
}

function schoolOf(user: CurrentUser): number {
  if (user.role !== 'school_admin') throw new NotFoundError();
  return user.schoolId;
}

/** Resend one failed message of the office's school. */
export async function resendOne(knex: Knex, user: CurrentUser, id: number, now: Date, actor: Actor): Promise<void> {
  const schoolId = schoolOf(user);
  const done = await knex.transaction(async (trx) => {
    const rows = await requeueFailed(trx, { schoolId, id }, now);
    if (rows.length === 0) return false;
    await audit(trx, actor, {
      action: 'sms.resend',
      schoolId,
      targetType: 'sms_outbox',
      targetId: id,
      details: { attemptsBefore: rows[0]!.attempts },
    });
    return true;
  });
  if (done) return;
  const row: { status: string; kind: string } | undefined = await knex('sms_outbox')
    .where({ id, school_id: schoolId })
    .first('status', 'kind');
  if (!row) throw new NotFoundError();
  if (row.kind === 'verification') {
    throw new ResendRefused('手機驗證碼簡訊不能重新發送：驗證碼已失效，請家長在「到離校簡訊註冊服務」重新取得驗證碼。');
  }
  throw new ResendRefused(
    `這則簡訊目前是「${SMS_STATUS_LABELS[row.status] ?? row.status}」，只有「發送失敗」的簡訊可以重新發送。`,
  );
}

/** Resend every failed message (verification codes excepted) created on `date` (Asia/Taipei) at the office's school. */
export async function resendDay(knex: Knex, user: CurrentUser, date: string, now: Date, actor: Actor): Promise<number> {
  const schoolId = schoolOf(user);
  const count = await knex.transaction(async (trx) => {
    const from = startOfTaipeiDay(date);
    const to = startOfTaipeiDay(addDays(date, 1));
    const rows = await requeueFailed(trx, { schoolId, from, to }, now);
    if (rows.length > 0) {
      const ids = rows.map((r) => r.id).sort((a, b) => a - b);
      await audit(trx, actor, {
        action: 'sms.resend_day',
        schoolId,
        targetType: 'school',
        targetId: schoolId,
        details: { date, count: ids.length, ids: ids.slice(0, 1000) },
      });
    }
    return rows.length;
  });
  if (count === 0) throw new ResendRefused(`${date} 沒有可重新發送的失敗簡訊。`);
  return count;
}
