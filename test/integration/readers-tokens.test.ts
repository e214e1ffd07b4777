import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createSchool } from '../support/factories.js';
import {
  authenticateReader,
  createReader,
  hashReaderToken,
  ReaderError,
  revokeReader,
} from '../../src/domain/readers/reader-tokens.js';

const knex = testDb().knex;
afterAll(() => closeTestDb());
beforeEach(() => resetDb());

describe('reader tokens', () => {
  it('creates a reader with a random token stored only as its hash and prefix', async () => {
    const schoolId = await createSchool(knex);
    const { reader, token } = await createReader(knex, { schoolId, name: '正門' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await knex('card_readers').where({ id: reader.id }).first();
    expect(row.token_hash).toBe(hashReaderToken(token));
    expect(row.token_hash).not.toContain(token);
    expect(row.token_prefix).toBe(token.slice(0, 8));
    expect(JSON.stringify(row)).not.toContain(token);
    const other = await createReader(knex, { schoolId, name: '側門' });
    expect(other.token).not.toBe(token);
  });

  it('authenticates the token, and refuses it once revoked', async () => {
    const schoolId = await createSchool(knex);
    const { reader, token } = await createReader(knex, { schoolId, name: '正門' });
    expect(await authenticateReader(knex, token)).toEqual({
      id: reader.id,
      schoolId,
      name: '正門',
      tokenPrefix: token.slice(0, 8),
      // The direction it faces (default `both`): each swipe stores the one its reader had when it was taken.
      direction: 'both',
    });
    expect(await authenticateReader(knex, `${token}x`)).toBeUndefined();
    expect(await authenticateReader(knex, '')).toBeUndefined();
    expect(await authenticateReader(knex, undefined)).toBeUndefined();
    expect(await revokeReader(knex, { schoolId, name: '正門' })).toBe(true);
    expect(await authenticateReader(knex, token)).toBeUndefined();
    expect(await revokeReader(knex, { readerId: reader.id })).toBe(false);
  });

  it('refuses a duplicate name in the same school, a bad name and an unknown school', async () => {
    const schoolId = await createSchool(knex);
    await createReader(knex, { schoolId, name: '正門' });
    await expect(createReader(knex, { schoolId, name: '正門' })).rejects.toBeInstanceOf(ReaderError);
    await expect(createReader(knex, { schoolId, name: '' })).rejects.toBeInstanceOf(ReaderError);
    await expect(createReader(knex, { schoolId: 99999, name: 'x' })).rejects.toBeInstanceOf(ReaderError);
    expect(await knex('card_readers').count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});
