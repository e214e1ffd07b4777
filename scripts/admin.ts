/**
 * `npm run admin -- <command> [options]` — the system administrator's commands (staff accounts and homeroom
 * teachers, CSV import, service periods, reader tokens, password resets, holidays, bureau announcements).
 * `npm run admin -- --help` lists them; each has `--help` and `--dry-run`. Uses the portal's settings
 * (DATABASE_URL, or the embedded database in DATA_DIR: stop the portal first, the embedded database has one
 * owner at a time).
 */
import 'dotenv/config';
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/db/connection.js';
import { runAdmin } from '../src/cli/admin.js';
import { runScript, type ScriptContext } from './run-script.js';

async function main(ctx: ScriptContext): Promise<number> {
  // Opened on the first need only (--help and usage errors never open it), once.
  let db: Promise<Database> | undefined;
  try {
    return await runAdmin(process.argv.slice(2), {
      knex: async () => {
        db ??= ctx.openDatabase(loadConfig(process.env), `npm run admin -- ${process.argv[2] ?? ''}`.trim());
        return (await db).knex;
      },
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      production: process.env.NODE_ENV === 'production',
      now: () =>
        process.env.APP_NOW && process.env.NODE_ENV !== 'production' ? new Date(process.env.APP_NOW) : new Date(),
    });
  } finally {
    if (db)
      await db.then(
        (d) => d.close(),
        () => {},
      );
  }
}

runScript('admin', main);
