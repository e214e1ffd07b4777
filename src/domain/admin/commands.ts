/**
 * The system administrator's operations (the Education Bureau has no web role): each returns what it did (or,
 * in a dry run, what it would do) so the script can report it. Every change is audited with no actor account.
 */
import type { Knex } from 'knex';
import { resetAccountPassword } from '../accounts/password-reset.js';
import { AnnouncementError, postBureauAnnouncement } from '../announcements/announcements.js';
import { addHolidayRange, CalendarError } from '../schools/school-calendar.js';
import { daysBetween, isValidDate } from '../time.js';
import { audit, SCRIPT_ACTOR, type AuditAction } from '../audit.js';
import { createPeriod as createServicePeriod, PeriodError } from '../subscriptions/service-periods.js';
import { AdminError } from './schools.js';

/** An audit row of the system administrator's scripts (no account; `via: admin script` in the details). */
async function auditAdmin(
  knex: Knex,
  action: AuditAction,
  o: { schoolId?: number | null; targetType?: string; targetId?: string | number; details?: Record<string, unknown> },
) {
  await audit(knex, SCRIPT_ACTOR, { action, ...o });
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
function checkText(label: string, v: string, max: number): string {
  const s = v.normalize('NFKC').trim();
  if (s.length < 1 || s.length > max || CONTROL.test(s))
    throw new AdminError(`${label}必填，最多 ${max} 個字，不可含控制字元`);
  return s;
}
function checkDate(label: string, v: string): string {
  if (!isValidDate(v)) throw new AdminError(`${label}「${v}」不是有效的日期（YYYY-MM-DD）`);
  return v;
}
function checkFee(label: string, v: string): number {
  if (!/^\d{1,6}$/.test(v) || Number(v) > 100000)
    throw new AdminError(`${label}「${v}」應為 0 到 100000 的整數（新臺幣元）`);
  return Number(v);
}

/** period:create — a school's SMS service period (簡訊服務) with its fees, by the same rules as the office's page. */
export async function createPeriod(
  knex: Knex,
  o: {
    schoolId: number;
    name: string;
    startsOn: string;
    endsOn: string;
    arrivalFee: string;
    departureFee: string;
    dryRun?: boolean;
  },
): Promise<{
  id: number | undefined;
  name: string;
  startsOn: string;
  endsOn: string;
  arrivalFee: number;
  departureFee: number;
}> {
  const v = {
    name: o.name.normalize('NFKC').trim(),
    startsOn: o.startsOn.trim(),
    endsOn: o.endsOn.trim(),
    arrivalFee: checkFee('到校SMS費用', o.arrivalFee),
    departureFee: checkFee('離校SMS費用', o.departureFee),
  };
  try {
    const { id } = await createServicePeriod(knex, SCRIPT_ACTOR, o.schoolId, v, { dryRun: o.dryRun });
    return { id, ...v };
  } catch (err) {
    if (err instanceof PeriodError) throw new AdminError(err.message);
    throw err;
  }
}

/** password:reset — a new one-time password (shown once), must-change set, lock cleared, sessions ended. */
export async function resetPassword(
  knex: Knex,
  o: { schoolId: number; role: string; login: string; now: Date; dryRun?: boolean },
): Promise<{ accountId: number; displayName: string; password: string | undefined; sessionsEnded: number }> {
  if (!['parent', 'teacher', 'school_admin'].includes(o.role))
    throw new AdminError(`身分別有誤：${o.role}（parent, teacher, school_admin）`);
  const login = o.login.normalize('NFKC').trim();
  const account = await knex('accounts')
    .where({ school_id: o.schoolId, role: o.role, login })
    .first('id', 'display_name', 'disabled_at');
  if (!account) throw new AdminError(`找不到帳號 ${login}（${o.role}）`);
  if (account.disabled_at) throw new AdminError(`帳號 ${login} 已停用`);
  if (o.dryRun)
    return { accountId: account.id, displayName: account.display_name, password: undefined, sessionsEnded: 0 };
  const target = { id: account.id as number, role: o.role, schoolId: o.schoolId, login };
  const { password, sessionsEnded } = await resetAccountPassword(knex, SCRIPT_ACTOR, target, o.now);
  return { accountId: account.id, displayName: account.display_name, password, sessionsEnded };
}

/** Thrown to roll a dry run back after the real checks have run. */
class DryRun extends Error {}

/**
 * holiday:add — a day (`from` = `to`) or a named range (寒假 2027-01-21~2027-02-10) a school (or every school) is
 * closed, through the same addHolidayRange as the school office's page: the same range again renames it, an
 * overlap is refused and nothing is written. A dry run runs every check and rolls back.
 */
export async function addHoliday(
  knex: Knex,
  o: { schoolIds: number[]; from: string; to: string; name: string; dryRun?: boolean },
): Promise<{ schools: number; created: number; updated: number; days: number }> {
  const from = checkDate('開始日期', o.from);
  const to = checkDate('結束日期', o.to);
  const name = checkText('假日名稱', o.name, 50);
  const out = { schools: o.schoolIds.length, created: 0, updated: 0, days: daysBetween(from, to) + 1 };
  try {
    await knex.transaction(async (trx) => {
      const r = await addHolidayRange(trx, { schoolIds: o.schoolIds, from, to, name }, SCRIPT_ACTOR);
      out.created = r.created;
      out.updated = r.renamed;
      if (o.dryRun) throw new DryRun();
    });
  } catch (e) {
    if (e instanceof DryRun) return out;
    if (e instanceof CalendarError) throw new AdminError(e.message);
    throw e;
  }
  return out;
}

/** announcement:post — a bureau announcement every user reads. */
export async function postAnnouncement(
  knex: Knex,
  o: { title: string; body: string; pinned: boolean; now: Date; dryRun?: boolean },
): Promise<{ id: number | undefined; title: string }> {
  try {
    return await postBureauAnnouncement(knex, SCRIPT_ACTOR, { title: o.title, body: o.body, pinned: o.pinned }, o.now, {
      dryRun: o.dryRun,
    });
  } catch (err) {
    if (err instanceof AnnouncementError) throw new AdminError(err.message);
    throw err;
  }
}

export { auditAdmin };
