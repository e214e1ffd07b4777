/**
 * `npm run migrate`            — apply every pending migration (what `npm start` also does).
 * `npm run migrate -- down`    — undo the last batch.
 * `npm run migrate -- --rollback-all` — undo every migration (drops the whole schema: all data is lost).
 * `npm run migrate -- status`  — list applied and pending migrations.
 * Uses the same settings as the portal (src/config.ts, `.env`): DATABASE_URL, or the embedded database in DATA_DIR
 * (stop the portal first: the embedded database has one owner at a time).
 */
import 'dotenv/config';
import { loadConfig } from '../src/config.js';
import { migrateLatest, migrationConfig, rollbackAll } from '../src/db/migrate.js';
import { runScript, type ScriptContext } from './run-script.js';

const USAGE = 'usage: npm run migrate [-- latest | down | --rollback-all | status]';

async function main(ctx: ScriptContext): Promise<number> {
  const arg = process.argv[2] ?? 'latest';
  if (!['latest', 'down', '--rollback-all', 'rollback-all', 'status', '--help', '-h'].includes(arg)) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  if (arg === '--help' || arg === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  const db = await ctx.openDatabase(config, 'npm run migrate');
  const where = db.embedded ? `embedded database in ${config.dataDir}` : 'DATABASE_URL';
  try {
    if (arg === 'latest') {
      const names = await migrateLatest(db.knex);
      process.stdout.write(
        names.length
          ? `Applied ${names.length} migration(s) on the ${where}:\n${names.map((n) => `  ${n}\n`).join('')}`
          : `Already up to date (${where}).\n`,
      );
    } else if (arg === 'down') {
      const [, names] = (await db.knex.migrate.rollback(migrationConfig())) as [number, string[]];
      process.stdout.write(
        names.length
          ? `Rolled back ${names.length} migration(s):\n${names.map((n) => `  ${n}\n`).join('')}`
          : 'Nothing to roll back.\n',
      );
    } else if (arg === 'status') {
      const [done, pending] = (await db.knex.migrate.list(migrationConfig())) as [
        { name: string }[],
        { file: string }[] | string[],
      ];
      process.stdout.write(`Applied (${done.length}):\n${done.map((m) => `  ${m.name}\n`).join('')}`);
      const names = pending.map((p) => (typeof p === 'string' ? p : p.file));
      process.stdout.write(`Pending (${names.length}):\n${names.map((n) => `  ${n}\n`).join('')}`);
    } else {
      await rollbackAll(db.knex);
      process.stdout.write(`Rolled back every migration on the ${where}.\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

runScript('migrate', main);
