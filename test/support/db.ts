import { inject } from 'vitest';
import { connect, type Database } from '../../src/db/connection.js';

let shared: Database | undefined;

/** The test database of this run, one connection pool per test file. */
export function testDb(): Database {
  shared ??= connect(inject('databaseUrl'), { dbPoolMax: 5, dbStatementTimeoutMs: 30_000 });
  return shared;
}

let tables: string[] | undefined;

/** Empty every table but the migration bookkeeping, and restart the ids. */
export async function resetDb(db: Database = testDb()): Promise<void> {
  tables ??= (
    await db.knex.raw<{ rows: { tablename: string }[] }>(
      `select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_migrations%'`,
    )
  ).rows.map((r) => r.tablename);
  await db.knex.raw(`truncate ${tables.map((t) => `"${t}"`).join(', ')} restart identity cascade`);
}

export async function closeTestDb(): Promise<void> {
  if (shared) {
    await shared.knex.destroy();
    shared = undefined;
  }
}
