/**
 * 首頁's reads, each page's in one statement (folded.ts): the parent's (`parentHome`: the latest announcements,
 * the child's 出勤統計, the decision notices) and the staff's (`staffHome`: today's class summary, the latest
 * announcements, today's SMS). What waits for review is the menu's count, `reviewCount`, already in the page's
 * locals; the staff's review reminders are read beside (review-reminders.ts).
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { classSummariesPart, studentGridPart, type ClassSummary, type GridRow } from '../attendance/records.js';
import { jsonRows, known, mapFolded, readFolded, type Folded } from '../folded.js';
import { visibleSchoolIds, visibleStudentIds } from '../scope.js';
import { decisionNoticesPart, type DecisionNotice } from '../subscriptions/decision-notices.js';
import { addDays, startOfTaipeiDay } from '../time.js';
import { latestAnnouncementsPart, type AnnouncementRow } from './announcements.js';
import { smsFiguresPart } from '../reports/daily-figures.js';

export interface HomeExtras {
  latestAnnouncements: AnnouncementRow[];
  staffCounts: { smsSent: number; smsFailed: number; smsQueued: number } | undefined;
}

interface SmsCounts {
  sent: number;
  failed: number;
  queued: number;
}

/**
 * Today's SMS of the staff member's scope: the school office's is the school's daily figure of today (one row,
 * daily-figures.ts); a teacher's classes are counted from the school's messages of the day (the
 * (school_id, created_at) index reads one school's day), then the classes' students.
 */
function todaysSmsPart(knex: Knex, user: CurrentUser, today: string): Folded<SmsCounts | undefined> {
  if (user.role === 'school_admin')
    return mapFolded(smsFiguresPart(knex, user.schoolId, today, today), (figures) => {
      const f = figures.get(today);
      return f && { sent: f.sent + f.delivered, failed: f.failed, queued: f.queued };
    });
  const counts = knex('sms_outbox as o')
    .whereIn('o.school_id', visibleSchoolIds(user))
    .whereIn('o.student_id', visibleStudentIds(knex, user))
    .where('o.created_at', '>=', startOfTaipeiDay(today))
    .where('o.created_at', '<', startOfTaipeiDay(addDays(today, 1)))
    .select(
      knex.raw(`count(*) filter (where o.status in ('sent','delivered'))::int as sent`),
      knex.raw(`count(*) filter (where o.status = 'failed')::int as failed`),
      knex.raw(`count(*) filter (where o.status in ('queued','sending'))::int as queued`),
    );
  return { sql: jsonRows(knex, counts), read: (v) => (v as SmsCounts[])[0] };
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

export interface StaffHome {
  /** Today's 出勤 of each class the staff member may see. */
  summaries: ClassSummary[];
  homeExtras: HomeExtras;
}

/**
 * The staff 首頁 but its review reminders: today's summary of the visible classes, the latest announcements and
 * today's SMS of the scope — one statement (folded.ts), each read built by its own reader's query.
 */
export async function staffHome(knex: Knex, user: CurrentUser, now: Date, today: string): Promise<StaffHome> {
  const r = await readFolded(knex, {
    summaries: classSummariesPart(knex, user, today),
    announcements: latestAnnouncementsPart(knex, user, now, HOME_ANNOUNCEMENTS),
    sms: todaysSmsPart(knex, user, today),
  });
  return {
    summaries: r.summaries,
    homeExtras: {
      latestAnnouncements: r.announcements,
      staffCounts: { smsSent: r.sms?.sent ?? 0, smsFailed: r.sms?.failed ?? 0, smsQueued: r.sms?.queued ?? 0 },
    },
  };
}
