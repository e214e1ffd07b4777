/**
 * What 首頁 adds below the 出勤統計: the latest announcements, and for staff today's SMS. (What waits for
 * review is the menu's count, `reviewCount`, already in the page's locals.) And the parent's whole 首頁 in one
 * statement (`parentHome`).
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { studentGridPart, type GridRow } from '../attendance/records.js';
import { known, readFolded } from '../folded.js';
import { visibleSchoolIds, visibleStudentIds } from '../scope.js';
import { decisionNoticesPart, type DecisionNotice } from '../subscriptions/decision-notices.js';
import { addDays, startOfTaipeiDay } from '../time.js';
import { latestAnnouncements, latestAnnouncementsPart, type AnnouncementRow } from './announcements.js';
import { smsFigures } from '../reports/daily-figures.js';

export interface HomeExtras {
  latestAnnouncements: AnnouncementRow[];
  staffCounts: { smsSent: number; smsFailed: number; smsQueued: number } | undefined;
}

/**
 * Today's SMS of the staff member's scope: the school office's is the school's daily figure of today (one row,
 * daily-figures.ts); a teacher's classes are counted from the school's messages of the day (the
 * (school_id, created_at) index reads one school's day), then the classes' students.
 */
async function todaysSms(
  knex: Knex,
  user: CurrentUser,
  today: string,
): Promise<{ sent: number; failed: number; queued: number } | undefined> {
  if (user.role === 'school_admin') {
    const f = (await smsFigures(knex, user.schoolId, today, today)).get(today);
    return f && { sent: f.sent + f.delivered, failed: f.failed, queued: f.queued };
  }
  return (await knex('sms_outbox as o')
    .whereIn('o.school_id', visibleSchoolIds(user))
    .whereIn('o.student_id', visibleStudentIds(knex, user))
    .where('o.created_at', '>=', startOfTaipeiDay(today))
    .where('o.created_at', '<', startOfTaipeiDay(addDays(today, 1)))
    .first(
      knex.raw(`count(*) filter (where o.status in ('sent','delivered'))::int as sent`),
      knex.raw(`count(*) filter (where o.status = 'failed')::int as failed`),
      knex.raw(`count(*) filter (where o.status in ('queued','sending'))::int as queued`),
    )) as { sent: number; failed: number; queued: number } | undefined;
}

/** How many announcements 首頁 lists. */
const HOME_ANNOUNCEMENTS = 5;

export interface ParentHome {
  homeExtras: HomeExtras;
  /** The current child's 出勤統計 from `from` to `to` (none without a child). */
  rows: GridRow[];
  decisionNotices: DecisionNotice[];
}

/**
 * The parent's 首頁: the latest announcements, the current child's 出勤統計 grid (its stored days and its school's
 * holidays) and the open decision notices — one statement, each read built by the query its own function runs
 * (latestAnnouncements, studentGrid, listDecisionNotices) and answered as a JSON column (folded.ts). The child is
 * the one loaded with the user this request, through the parent's own links (the scope of visibleStudentIds).
 */
export async function parentHome(
  knex: Knex,
  user: CurrentUser,
  now: Date,
  from: string,
  to: string,
): Promise<ParentHome> {
  const child = user.role === 'parent' ? user.currentChild : undefined;
  const r = await readFolded(knex, {
    announcements: latestAnnouncementsPart(knex, user, now, HOME_ANNOUNCEMENTS),
    grid: child ? studentGridPart(knex, child, from, to) : known<GridRow[]>([]),
    notices: decisionNoticesPart(knex, user),
  });
  return {
    homeExtras: { latestAnnouncements: r.announcements, staffCounts: undefined },
    rows: r.grid,
    decisionNotices: r.notices,
  };
}

export async function homeExtras(knex: Knex, user: CurrentUser, now: Date, today: string): Promise<HomeExtras> {
  const latest = await latestAnnouncements(knex, user, now, HOME_ANNOUNCEMENTS);
  if (user.role === 'parent') return { latestAnnouncements: latest, staffCounts: undefined };
  const sms = await todaysSms(knex, user, today);
  return {
    latestAnnouncements: latest,
    staffCounts: {
      smsSent: sms?.sent ?? 0,
      smsFailed: sms?.failed ?? 0,
      smsQueued: sms?.queued ?? 0,
    },
  };
}
