/** Runs the seeds of `<root>/seeds` (or `dist/seeds` once compiled): reference data always, demo data on request. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import { CODE_ROOT } from '../paths.js';

interface SeedModule {
  seed(knex: Knex, ctx: { clock: Clock }): Promise<void>;
}

const load = async (name: string) =>
  (await import(pathToFileURL(path.join(CODE_ROOT, 'seeds', `${name}.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`)).href)) as SeedModule;

export async function seedReference(knex: Knex, clock: Clock): Promise<void> {
  await (await load('01_reference')).seed(knex, { clock });
}

export async function seedDemo(knex: Knex, clock: Clock): Promise<void> {
  await (await load('02_demo')).seed(knex, { clock });
}

/** True when nothing but reference data is there (no accounts yet): a fresh database. */
export async function isEmpty(knex: Knex): Promise<boolean> {
  const row = await knex('accounts').count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0) === 0;
}
