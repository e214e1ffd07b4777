/**
 * Gate card readers and their bearer tokens. A token is 32 random bytes (base64url), shown once at creation;
 * the database keeps only its SHA-256 and a short prefix (to tell readers apart in lists and logs).
 * Revoking a reader stops its token at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { hasControlChars } from '../text.js';
import { audit, type Actor } from '../audit.js';
import { READER_DIRECTION_LABELS, READER_DIRECTIONS, type ReaderDirection } from '../attendance/rules.js';

export const TOKEN_PREFIX_LENGTH = 8;

export interface Reader {
  id: number;
  schoolId: number;
  name: string;
  tokenPrefix: string;
  direction?: ReaderDirection;
}

/** The words for a direction that is not one: what the admin should type instead. */
export const DIRECTION_HELP = `刷卡機方向應為 ${READER_DIRECTIONS.map((d) => `${d}（${READER_DIRECTION_LABELS[d]}）`).join('、')}`;

export function isReaderDirection(v: unknown): v is ReaderDirection {
  return typeof v === 'string' && (READER_DIRECTIONS as readonly string[]).includes(v);
}

export class ReaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReaderError';
  }
}

export function hashReaderToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const validName = (s: string) => s.length >= 1 && s.length <= 100 && !hasControlChars(s);

/**
 * Register a reader of a school. Returns the reader and its plaintext token: the only time it is ever seen. With
 * an actor (the admin script), `reader.created` is audited in the same transaction as the insert; the test
 * factories register readers without one.
 */
export async function createReader(
  knex: Knex,
  o: { schoolId: number; name: string; direction?: ReaderDirection },
  actor?: Actor,
): Promise<{ reader: Reader; token: string }> {
  const direction = o.direction ?? 'both';
  if (!isReaderDirection(direction)) throw new ReaderError(DIRECTION_HELP);
  const name = o.name.normalize('NFKC').trim();
  if (!validName(name)) throw new ReaderError('reader name must be 1-100 characters without control characters');
  return knex.transaction(async (trx) => {
    const school = await trx('schools').where({ id: o.schoolId }).first('id');
    if (!school) throw new ReaderError(`no school with id ${o.schoolId}`);
    const existing = await trx('card_readers').where({ school_id: o.schoolId, name }).first('id');
    if (existing) throw new ReaderError(`the school already has a reader named "${name}"`);
    const token = randomBytes(32).toString('base64url');
    const [row] = await trx('card_readers')
      .insert({
        school_id: o.schoolId,
        name,
        direction,
        token_hash: hashReaderToken(token),
        token_prefix: token.slice(0, TOKEN_PREFIX_LENGTH),
      })
      .returning(['id', 'school_id', 'name', 'token_prefix', 'direction']);
    if (actor)
      await audit(trx, actor, {
        action: 'reader.created',
        schoolId: o.schoolId,
        targetType: 'card_reader',
        targetId: row.id,
        details: { name: row.name, direction },
      });
    return {
      reader: {
        id: row.id,
        schoolId: row.school_id,
        name: row.name,
        tokenPrefix: row.token_prefix,
        direction: row.direction,
      },
      token,
    };
  });
}

/**
 * Change which way an active reader faces (in / out / both). Its swipes from now on follow the new direction;
 * each swipe already stored keeps the direction it was stored with (swipes.reader_direction, see days.ts). Returns the old and new direction, or undefined
 * when the school has no active reader of that name.
 */
export async function setReaderDirection(
  knex: Knex,
  o: { schoolId: number; name: string; direction: ReaderDirection },
  onChange?: (
    trx: Knex.Transaction,
    r: { readerId: number; from: ReaderDirection; to: ReaderDirection },
  ) => Promise<void>,
): Promise<{ readerId: number; from: ReaderDirection; to: ReaderDirection } | undefined> {
  if (!isReaderDirection(o.direction)) throw new ReaderError(DIRECTION_HELP);
  const name = o.name.normalize('NFKC').trim();
  return knex.transaction(async (trx) => {
    const row = await trx('card_readers')
      .where({ school_id: o.schoolId, name })
      .whereNull('revoked_at')
      .forUpdate()
      .first('id', 'direction');
    if (!row) return undefined;
    const change = { readerId: row.id as number, from: row.direction as ReaderDirection, to: o.direction };
    if (change.from !== change.to) {
      await trx('card_readers').where({ id: row.id }).update({ direction: o.direction });
      await onChange?.(trx, change);
    }
    return change;
  });
}

/**
 * Revoke a reader (by id, or by school and name). Returns false when there is no such active reader. With an
 * actor, `reader.revoked` is audited in the same transaction.
 */
export async function revokeReader(
  knex: Knex,
  o: { readerId: number } | { schoolId: number; name: string },
  now: Date = new Date(),
  actor?: Actor,
): Promise<boolean> {
  return knex.transaction(async (trx) => {
    const q = trx('card_readers').whereNull('revoked_at');
    if ('readerId' in o) q.where('id', o.readerId);
    else q.where({ school_id: o.schoolId, name: o.name.normalize('NFKC').trim() });
    const rows: { id: number; school_id: number; name: string }[] = await q
      .update({ revoked_at: now })
      .returning(['id', 'school_id', 'name']);
    if (actor)
      for (const r of rows)
        await audit(trx, actor, {
          action: 'reader.revoked',
          schoolId: r.school_id,
          targetType: 'card_reader',
          targetId: r.id,
          details: { name: r.name },
        });
    return rows.length > 0;
  });
}

/** The active reader a bearer token belongs to, or undefined (unknown, malformed or revoked). */
export async function authenticateReader(knex: Knex, token: string | undefined): Promise<Reader | undefined> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{20,200}$/.test(token)) return undefined;
  const row = await knex('card_readers')
    .where({ token_hash: hashReaderToken(token) })
    .whereNull('revoked_at')
    .first('id', 'school_id', 'name', 'token_prefix', 'direction');
  return row
    ? { id: row.id, schoolId: row.school_id, name: row.name, tokenPrefix: row.token_prefix, direction: row.direction }
    : undefined;
}

/** The readers of a school (for an admin list): never the hash. */
export async function listReaders(knex: Knex, schoolId: number) {
  return knex('card_readers')
    .where({ school_id: schoolId })
    .orderBy('name')
    .select('id', 'name', 'token_prefix', 'created_at', 'revoked_at', 'last_seen_at');
}

/** A school's reader by name (as typed: NFKC, trimmed); `active`: only one whose token is not revoked. */
export async function readerNamed(
  knex: Knex,
  o: { schoolId: number; name: string; active: boolean },
): Promise<{ id: number; direction: ReaderDirection } | undefined> {
  const q = knex('card_readers').where({ school_id: o.schoolId, name: o.name.normalize('NFKC').trim() });
  if (o.active) q.whereNull('revoked_at');
  return q.first('id', 'direction');
}
