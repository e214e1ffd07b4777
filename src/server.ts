/**
 * Entry point: settings → database (embedded unless DATABASE_URL) → migrations → seeds on a fresh database →
 * the app → listen. SIGTERM/SIGINT stop taking connections, let in-flight requests finish, then close pools
 * (src/shutdown.ts); before the portal serves they stop the start-up where it is, rolled back.
 */
import 'dotenv/config';
import http, { type Server } from 'node:http';
import { createApp } from './app.js';
import { systemClock } from './clock.js';
import { loadConfigOrExit } from './config.js';
import { openDatabase, type Database } from './db/connection.js';
import { migrateLatest } from './db/migrate.js';
import { isEmpty, seedDemo, seedReference } from './db/seed.js';
import { createLogger } from './logger.js';
import { startBackgroundJobs } from './jobs.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { gracefulShutdown } from './shutdown.js';

/** Set once a stop was asked for before the portal served (then it ends the process itself). */
let stoppedBeforeServing = false;

export async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config.logLevel);
  const clock = systemClock(config.appNow);

  // A stop asked for before the portal serves (a deploy that changes its mind while this one still opens, migrates
  // or seeds its database): the start-up work in progress is rolled back (its connections cut), the embedded
  // database is shut down cleanly, and the process exits 0 without serving.
  let opening: Promise<Database> | undefined;
  const beforeServing = (signal: NodeJS.Signals) => {
    if (stoppedBeforeServing) return;
    stoppedBeforeServing = true;
    logger.info({ signal }, 'stopping before serving');
    void (opening ?? Promise.reject(new Error('no database yet')))
      .then((d) => d.abort())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        () => process.exit(0),
      );
  };
  process.on('SIGTERM', beforeServing);
  process.on('SIGINT', beforeServing);

  let db: Database;
  try {
    opening = openDatabase(config, logger, 'the portal');
    db = await opening;
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      logger.error({ dataDir: err.dataDir, holderPid: err.holder?.pid }, 'data folder in use by another process');
      process.stderr.write(`${err.message}\n`);
      process.exit(75);
    }
    throw err;
  }
  logger.info({ embedded: db.embedded, dataDir: db.embedded ? config.dataDir : undefined }, 'database open');

  const applied = await migrateLatest(db.knex);
  if (applied.length > 0) logger.info({ migrations: applied.length }, 'migrations applied');
  await seedReference(db.knex, clock);
  if (config.seedDemo && !config.isProduction && (await isEmpty(db.knex))) {
    await seedDemo(db.knex, clock, { publicUrl: config.publicUrl });
    logger.info('demo data loaded');
  }
  if (stoppedBeforeServing) return;
  process.off('SIGTERM', beforeServing);
  process.off('SIGINT', beforeServing);

  const deps = { config, db, clock, logger };
  const app = createApp(deps);
  const jobs = startBackgroundJobs(deps);
  const server: Server = http.createServer(app);
  const stop = gracefulShutdown({ server, logger, timeoutMs: config.shutdownTimeoutMs, jobs, app, db });
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.headersTimeout = config.keepAliveTimeoutMs + 1000;
  server.listen(config.port, config.host, () => {
    logger.info({ url: config.publicUrl, port: config.port }, 'portal listening');
  });

  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (stoppedBeforeServing) return; // (the start-up work fails as its connections are cut; the stop ends the process)
  process.stderr.write(
    `The portal could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
