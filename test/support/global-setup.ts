import type { TestProject } from 'vitest/node';
import { connect } from '../../src/db/connection.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.js';
import { migrateLatest } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let embedded: EmbeddedPostgres | undefined;

/** Start the test database (embedded unless TEST_DATABASE_URL is set), empty it and migrate it. */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres('memory://');
    url = embedded.url;
  }
  const db = connect(url, { dbPoolMax: 2, dbStatementTimeoutMs: 60_000 });
  await db.knex.raw('drop schema if exists public cascade');
  await db.knex.raw('create schema public');
  await migrateLatest(db.knex);
  await db.knex.destroy();
  project.provide('databaseUrl', url);
}

export async function teardown(): Promise<void> {
  if (embedded) await embedded.stop();
}
