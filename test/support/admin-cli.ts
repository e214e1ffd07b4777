/** `npm run admin -- …` in the test process: runAdmin on the test database, its output collected. */
import type { Knex } from 'knex';
import { runAdmin, type CliContext } from '../../src/cli/admin.js';
import { DEFAULT_NOW } from './app.js';

export interface AdminRun {
  code: number;
  out: string;
  err: string;
  /** Whether the command opened the database. */
  opened: boolean;
}

export async function runAdminCommand(knex: Knex, args: string[], o: { now?: string } = {}): Promise<AdminRun> {
  const out: string[] = [];
  const err: string[] = [];
  let opened = false;
  const ctx: CliContext = {
    knex: async () => {
      opened = true;
      return knex;
    },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => new Date(o.now ?? DEFAULT_NOW),
  };
  const code = await runAdmin(args, ctx);
  return { code, out: out.join(''), err: err.join(''), opened };
}
