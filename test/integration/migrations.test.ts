import { afterAll, describe, expect, it } from 'vitest';
import { migrateLatest, rollbackAll } from '../../src/db/migrate.js';
import { closeTestDb, testDb } from '../support/db.js';

afterAll(closeTestDb);

const tableCount = async () =>
  Number(
    (
      await testDb().knex.raw<{ rows: { n: string }[] }>(
        `select count(*) as n from pg_tables where schemaname = 'public' and tablename not like 'knex_migrations%'`,
      )
    ).rows[0]!.n,
  );

describe('migrations', () => {
  it('go up, all the way down and up again, leaving the same tables', async () => {
    const { knex } = testDb();
    const before = await tableCount();
    expect(before).toBeGreaterThanOrEqual(25);
    await rollbackAll(knex);
    expect(await tableCount()).toBe(0);
    const names = await migrateLatest(knex);
    expect(names.length).toBeGreaterThanOrEqual(18);
    expect(await tableCount()).toBe(before);
  });

  it('refuse an unknown subscription status (CHECK constraint)', async () => {
    const { knex } = testDb();
    await expect(
      knex.raw(`insert into school_levels (code, name, sort_order) values ('college', '大學', 9)`),
    ).rejects.toThrow(/school_levels_code_check/);
  });
});
