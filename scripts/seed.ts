/**
 * `npm run seed` — load the reference data (12 districts, 4 levels, the 304 Taipei schools) and, unless
 * NODE_ENV=production (or SEED_DEMO=false), the demo data of the README's demo accounts relative to the app's today (APP_NOW).
 * `npm run seed -- --reference-only` skips the demo data. Both seeds are idempotent: running them again
 * changes nothing. Migrates first, so it works on an empty database. Uses the portal's settings (src/config.ts).
 */
import 'dotenv/config';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { migrateLatest } from '../src/db/migrate.js';
import { seedDemo, seedReference } from '../src/db/seed.js';
import { runScript, type ScriptContext } from './run-script.js';

async function main(ctx: ScriptContext): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--reference-only');
  if (unknown.length > 0) {
    process.stderr.write('usage: npm run seed [-- --reference-only]\n');
    return 64;
  }
  const config = loadConfig(process.env);
  const clock = systemClock(config.appNow);
  const db = await ctx.openDatabase(config, 'npm run seed');
  try {
    await migrateLatest(db.knex);
    await seedReference(db.knex, clock, { publicUrl: config.publicUrl });
    process.stdout.write('Reference data: districts, levels and schools loaded.\n');
    if (args.includes('--reference-only') || config.isProduction || !config.seedDemo) {
      process.stdout.write(
        `Demo data skipped (${config.isProduction ? 'NODE_ENV=production' : args.length ? '--reference-only' : 'SEED_DEMO=false'}).\n`,
      );
    } else {
      await seedDemo(db.knex, clock, { publicUrl: config.publicUrl });
      process.stdout.write(`Demo data loaded (today is ${clock.today()}); every demo password is demo-1234.\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

runScript('seed', main);
