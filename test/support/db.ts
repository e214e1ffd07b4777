import pg from 'pg';
import { inject, vi } from 'vitest';
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

/** Every statement any pool sends (Knex's and the session store's alike) while `run` runs, in order. */
export async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; sqls: string[] }> {
  const sqls: string[] = [];
  const query = pg.Client.prototype.query;
  const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    if (text) sqls.push(text);
    return (query as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  try {
    return { result: await run(), sqls };
  } finally {
    spy.mockRestore();
  }
}
