/**
 * Migrations and seeds are found by listing their folders and importing each file, so the same code runs
 * from TypeScript sources (tsx, vitest) and from the compiled `dist/` (npm start).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { CODE_ROOT } from '../paths.js';

/** `<root>/migrations` from sources, `<root>/dist/migrations` once compiled. */
export const MIGRATIONS_DIR = path.join(CODE_ROOT, 'migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const isSource = (f: string) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts');

class FolderMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    return readdirSync(this.dir).filter(isSource).sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(this.dir, file)).href)) as MigrationModule;
  }
}

export const migrationConfig = (): Knex.MigratorConfig => ({
  migrationSource: new FolderMigrationSource(MIGRATIONS_DIR),
  tableName: 'knex_migrations',
});

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, names] = (await knex.migrate.latest(migrationConfig())) as [number, string[]];
  return names;
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(migrationConfig(), true);
}
