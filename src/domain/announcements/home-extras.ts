/** What 首頁 adds below the 出勤統計: the latest announcements, and for staff what waits for review and today's SMS. */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { visibleStudentIds } from '../scope.js';
import { addDays, startOfTaipeiDay } from '../time.js';
import { latestAnnouncements, type AnnouncementRow } from './announcements.js';

export interface HomeExtras {
  latestAnnouncements: AnnouncementRow[];
  staffCounts: { pendingReviews: number; smsSent: number; smsFailed: number; smsQueued: number } | undefined;
}

export async function homeExtras(knex: Knex, user: CurrentUser, now: Date, today: string): Promise<HomeExtras> {
  const latest = await latestAnnouncements(knex, user, now, 5);
  if (user.role === 'parent') return { latestAnnouncements: latest, staffCounts: undefined };
  const pending = await knex('review_requests as r')
    .join('subscriptions as s', 's.id', 'r.subscription_id')
    .where('r.status', 'pending')
    .whereIn('s.student_id', visibleStudentIds(knex, user))
    .count<{ n: string }[]>({ n: '*' })
    .first();
  const sms = (await knex('sms_outbox as o')
    .whereIn('o.student_id', visibleStudentIds(knex, user))
    .where('o.created_at', '>=', startOfTaipeiDay(today))
    .where('o.created_at', '<', startOfTaipeiDay(addDays(today, 1)))
    .first(
      knex.raw(`count(*) filter (where o.status in ('sent','delivered'))::int as sent`),
      knex.raw(`count(*) filter (where o.status = 'failed')::int as failed`),
      knex.raw(`count(*) filter (where o.status in ('queued','sending'))::int as queued`),
    )) as { sent: number; failed: number; queued: number } | undefined;
  return {
    latestAnnouncements: latest,
    staffCounts: {
      pendingReviews: Number(pending?.n ?? 0),
      smsSent: sms?.sent ?? 0,
      smsFailed: sms?.failed ?? 0,
      smsQueued: sms?.queued ?? 0,
    },
  };
}
