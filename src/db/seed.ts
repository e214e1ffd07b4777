/** Runs the seeds of `<root>/seeds` (or `dist/seeds` once compiled): reference data always, demo data on request. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import { CODE_ROOT } from '../paths.js';

/** What a seed is given: the app's clock (demo data is relative to its today) and the portal's public URL. */
export interface SeedContext {
  clock: Clock;
  /** The portal's own URL (config.publicUrl): the development Taipei Card issuer lives under it. */
  publicUrl: string;
}

interface SeedModule {
  seed(knex: Knex, ctx: SeedContext): Promise<void>;
}

/** The default PUBLIC_URL (src/config.ts with the default PORT). */
export const DEFAULT_PUBLIC_URL = 'http://localhost:3000';

const load = async (name: string) =>
  (await import(
    pathToFileURL(path.join(CODE_ROOT, 'seeds', `${name}.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`)).href
  )) as SeedModule;

export async function seedReference(knex: Knex, clock: Clock, opts: { publicUrl?: string } = {}): Promise<void> {
  await (await load('01_reference')).seed(knex, { clock, publicUrl: opts.publicUrl ?? DEFAULT_PUBLIC_URL });
}

/** The demo data of the README's demo accounts, relative to the clock's today. Idempotent. */
export async function seedDemo(knex: Knex, clock: Clock, opts: { publicUrl?: string } = {}): Promise<void> {
  await (await load('02_demo')).seed(knex, { clock, publicUrl: opts.publicUrl ?? DEFAULT_PUBLIC_URL });
}

/** True when nothing but reference data is there (no accounts yet): a fresh database. */
export async function isEmpty(knex: Knex): Promise<boolean> {
  const row = await knex('accounts').count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0) === 0;
}
