/** Factories for announcements (公告). */
import type { Knex } from 'knex';

export async function createAnnouncement(
  knex: Knex,
  o: {
    schoolId?: number | null;
    title?: string;
    body?: string;
    pinned?: boolean;
    publishedAt?: string;
    withdrawnAt?: string | null;
  } = {},
): Promise<number> {
  const [row] = await knex('announcements')
    .insert({
      school_id: o.schoolId ?? null,
      title: o.title ?? '公告',
      body: o.body ?? '內容',
      pinned: o.pinned ?? false,
      author_name: '測試',
      published_at: o.publishedAt ?? '2026-11-20T01:00:00Z',
      withdrawn_at: o.withdrawnAt ?? null,
    })
    .returning('id');
  return row.id as number;
}
