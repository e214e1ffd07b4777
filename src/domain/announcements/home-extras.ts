/**
 * What 首頁 adds below the 出勤統計: the latest announcements, and for staff today's SMS. (What waits for
 * review is the menu's count, `reviewCount`, already in the page's locals.)
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleSchoolIds, visibleStudentIds } from '../scope.js';
import { addDays, startOfTaipeiDay } from '../time.js';
import { latestAnnouncements, type AnnouncementRow } from './announcements.js';
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

export async function homeExtras(knex: Knex, user: CurrentUser, now: Date, today: string): Promise<HomeExtras> {
  const latest = await latestAnnouncements(knex, user, now, 5);
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
