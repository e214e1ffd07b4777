/**
 * 公告資訊服務: announcements of the bureau (school_id null: every user sees them) and of a school (its
 * staff, and the parents of its students). Pinned first, then newest. A withdrawn or not yet published
 * announcement is not shown to readers.
 */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { audit, type Actor } from '../audit.js';
import { DomainError } from '../errors.js';
import { hasControlChars } from '../text.js';
import { offsetOf, PAGE_SIZE, pageOf, type Page } from '../paging.js';
import { asDate, asDateOrNull, jsonRows, type Folded, type RowOrder } from '../folded.js';

export interface AnnouncementRow {
  id: number;
  schoolId: number | null;
  schoolName: string | null;
  title: string;
  body: string;
  pinned: boolean;
  authorName: string;
  publishedAt: Date;
  updatedAt: Date;
  withdrawnAt: Date | null;
}

/** The schools whose announcements this user reads: the staff member's school, the parent's children's schools. */
export function readerSchoolIds(user: CurrentUser): number[] {
  if (user.role === 'parent') return [...new Set(user.children.map((c) => c.schoolId))];
  return [user.schoolId];
}

function base(knex: Knex) {
  return knex('announcements as an').leftJoin('schools as sc', 'sc.id', 'an.school_id');
}

const COLUMNS = [
  'an.id',
  'an.school_id',
  'sc.name as school_name',
  'an.title',
  'an.body',
  'an.pinned',
  'an.author_name',
  'an.published_at',
  'an.updated_at',
  'an.withdrawn_at',
];

function toRow(r: Record<string, unknown>): AnnouncementRow {
  return {
    id: r.id as number,
    schoolId: (r.school_id as number | null) ?? null,
    schoolName: (r.school_name as string | null) ?? null,
    title: r.title as string,
    body: r.body as string,
    pinned: r.pinned as boolean,
    authorName: r.author_name as string,
    publishedAt: asDate(r.published_at),
    updatedAt: asDate(r.updated_at),
    withdrawnAt: asDateOrNull(r.withdrawn_at),
  };
}

/** What a reader may see: published, not withdrawn, from the bureau or one of the reader's schools. */
function visibleTo(q: Knex.QueryBuilder, user: CurrentUser, now: Date): Knex.QueryBuilder {
  const schools = readerSchoolIds(user);
  return q
    .whereNull('an.withdrawn_at')
    .where('an.published_at', '<=', now)
    .where((w) => {
      w.whereNull('an.school_id');
      if (schools.length > 0) w.orWhereIn('an.school_id', schools);
    });
}

export async function listAnnouncements(
  knex: Knex,
  user: CurrentUser,
  now: Date,
  page = 1,
): Promise<Page<AnnouncementRow>> {
  const countRow = await visibleTo(base(knex), user, now).count<{ n: string }[]>({ n: '*' }).first();
  const total = Number(countRow?.n ?? 0);
  const rows = await visibleTo(base(knex), user, now)
    .select(COLUMNS)
    .orderBy([
      { column: 'an.pinned', order: 'desc' },
      { column: 'an.published_at', order: 'desc' },
      { column: 'an.id', order: 'desc' },
    ])
    .limit(PAGE_SIZE)
    .offset(offsetOf(page));
  return pageOf(rows.map(toRow), total, page);
}

/** Newest first: the order of 首頁's latest announcements. */
const LATEST_ORDER: RowOrder[] = [
  { column: 'an.published_at', order: 'desc' },
  { column: 'an.id', order: 'desc' },
];

function latestQuery(knex: Knex, user: CurrentUser, now: Date, n: number): Knex.QueryBuilder {
  return visibleTo(base(knex), user, now).select(COLUMNS).orderBy(LATEST_ORDER).limit(n);
}

export async function latestAnnouncements(knex: Knex, user: CurrentUser, now: Date, n = 5): Promise<AnnouncementRow[]> {
  return (await latestQuery(knex, user, now, n)).map(toRow);
}

/** `latestAnnouncements` as a part of a folded statement (folded.ts): the same query, its rows as JSON. */
export function latestAnnouncementsPart(knex: Knex, user: CurrentUser, now: Date, n = 5): Folded<AnnouncementRow[]> {
  return {
    sql: jsonRows(knex, latestQuery(knex, user, now, n), LATEST_ORDER),
    read: (v) => (v as Record<string, unknown>[]).map(toRow),
  };
}

export async function findVisibleAnnouncement(
  knex: Knex,
  user: CurrentUser,
  now: Date,
  id: number,
): Promise<AnnouncementRow | undefined> {
  const r = await visibleTo(base(knex), user, now).where('an.id', id).first(COLUMNS);
  return r ? toRow(r) : undefined;
}

/** A school admin's own school's announcements, withdrawn ones included (for the management list). */
export async function listSchoolAnnouncements(knex: Knex, user: CurrentUser): Promise<AnnouncementRow[]> {
  if (user.role !== 'school_admin') return [];
  const rows = await base(knex)
    .where('an.school_id', user.schoolId)
    .select(COLUMNS)
    .orderBy([
      { column: 'an.withdrawn_at', order: 'desc', nulls: 'first' },
      { column: 'an.published_at', order: 'desc' },
      { column: 'an.id', order: 'desc' },
    ])
    .limit(200);
  return rows.map(toRow);
}

/** One of this school admin's school's announcements (not the bureau's, not another school's). */
export async function findOwnAnnouncement(
  knex: Knex,
  user: CurrentUser,
  id: number,
): Promise<AnnouncementRow | undefined> {
  if (user.role !== 'school_admin') return undefined;
  const r = await base(knex).where('an.id', id).where('an.school_id', user.schoolId).first(COLUMNS);
  return r ? toRow(r) : undefined;
}

export interface AnnouncementInput {
  title: string;
  body: string;
  pinned: boolean;
}

/** Every problem of an announcement's text at once, by field. */
export class AnnouncementError extends DomainError {
  constructor(readonly errors: Partial<Record<'title' | 'body', string>>) {
    super('invalid', Object.values(errors).join('；'));
    this.name = 'AnnouncementError';
  }
}

/**
 * The one rule for an announcement's text, from the school office's page and the bureau's script alike: prose is
 * NFC-normalised only (NFKC would turn Chinese punctuation such as ，：（ into ASCII), line breaks become \n,
 * both are trimmed; a title of 1–100 characters on one line, a body of 1–5,000, no control characters.
 */
export function checkAnnouncement(raw: AnnouncementInput): AnnouncementInput {
  const title = raw.title.normalize('NFC').trim();
  const body = raw.body.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  const errors: Partial<Record<'title' | 'body', string>> = {};
  if (title.length < 1 || title.length > 100 || hasControlChars(title))
    errors.title = '標題必填，最多 100 個字，不可換行';
  if (body.length < 1 || body.length > 5000 || hasControlChars(body, { multiline: true }))
    errors.body = '內容必填，最多 5000 個字';
  if (Object.keys(errors).length > 0) throw new AnnouncementError(errors);
  return { title, body, pinned: raw.pinned };
}

/** A school announcement by the school office, audited in the same transaction. */
export async function createSchoolAnnouncement(
  knex: Knex,
  actor: Actor,
  user: CurrentUser,
  raw: AnnouncementInput,
  now: Date,
): Promise<number> {
  const input = checkAnnouncement(raw);
  return knex.transaction(async (trx) => {
    const [row] = await trx('announcements')
      .insert({
        school_id: user.schoolId,
        title: input.title,
        body: input.body,
        pinned: input.pinned,
        author_account_id: user.accountId,
        author_name: user.displayName,
        published_at: now,
        created_at: now,
        updated_at: now,
      })
      .returning('id');
    const id = row.id as number;
    await audit(trx, actor, { action: 'announcement.created', targetType: 'announcement', targetId: id });
    return id;
  });
}

/** Update in the admin's school only; false when there is no such announcement there. */
export async function updateSchoolAnnouncement(
  knex: Knex,
  actor: Actor,
  user: CurrentUser,
  id: number,
  raw: AnnouncementInput,
  now: Date,
): Promise<boolean> {
  if (user.role !== 'school_admin') return false;
  const input = checkAnnouncement(raw);
  return knex.transaction(async (trx) => {
    const n = await trx('announcements')
      .where({ id, school_id: user.schoolId })
      .whereNull('withdrawn_at')
      .update({ title: input.title, body: input.body, pinned: input.pinned, updated_at: now });
    if (n > 0) await audit(trx, actor, { action: 'announcement.updated', targetType: 'announcement', targetId: id });
    return n > 0;
  });
}

export async function withdrawSchoolAnnouncement(
  knex: Knex,
  actor: Actor,
  user: CurrentUser,
  id: number,
  now: Date,
): Promise<boolean> {
  if (user.role !== 'school_admin') return false;
  return knex.transaction(async (trx) => {
    const n = await trx('announcements')
      .where({ id, school_id: user.schoolId })
      .whereNull('withdrawn_at')
      .update({ withdrawn_at: now, updated_at: now });
    if (n > 0) await audit(trx, actor, { action: 'announcement.withdrawn', targetType: 'announcement', targetId: id });
    return n > 0;
  });
}

/** A bureau announcement (every school), posted by the admin script. A dry run checks and writes nothing. */
export async function postBureauAnnouncement(
  knex: Knex,
  actor: Actor,
  raw: AnnouncementInput & { authorName?: string },
  now: Date,
  o: { dryRun?: boolean } = {},
): Promise<{ id: number | undefined; title: string }> {
  const input = checkAnnouncement(raw);
  if (o.dryRun) return { id: undefined, title: input.title };
  return knex.transaction(async (trx) => {
    const [row] = await trx('announcements')
      .insert({
        school_id: null,
        title: input.title,
        body: input.body,
        pinned: input.pinned,
        author_account_id: null,
        author_name: raw.authorName ?? '臺北市政府教育局',
        published_at: now,
        created_at: now,
        updated_at: now,
      })
      .returning('id');
    const id = row.id as number;
    await audit(trx, actor, {
      action: 'announcement.created',
      targetType: 'announcement',
      targetId: id,
      details: { bureau: true },
    });
    return { id, title: input.title };
  });
}
