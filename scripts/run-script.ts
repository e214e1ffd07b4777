/**
 * How every admin script ends: its exit code, a bad setting named with exit 78, the embedded database in use by
 * another process with exit 75 (try again once it has stopped), any other failure with 1.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops the script: the database it opened through `ctx.openDatabase` (even one still
 * opening) is aborted — its connections cut, so the transaction in progress is rolled back and nothing more is
 * committed; the embedded PostgreSQL shut down cleanly and the data folder's lock released — and the process
 * exits 130 / 143, whatever the interrupted work would have returned.
 */
import { ConfigError, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { DataDirLockedError } from '../src/db/data-dir-lock.js';

export interface ScriptContext {
  /** Open the configured database as `owner` (the name a second owner of DATA_DIR is told), closed on Ctrl-C. */
  openDatabase(config: Config, owner: string): Promise<Database>;
}

/** How long the database may take to close after Ctrl-C before the process exits anyway. */
const INTERRUPT_CLOSE_MS = 5000;

export function runScript(name: string, main: (ctx: ScriptContext) => Promise<number>): void {
  const opened: Promise<Database>[] = [];
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${name}: ${signal}: stopped; unfinished work rolled back, closing the database…\n`);
    const code = signal === 'SIGINT' ? 130 : 143;
    const force = setTimeout(() => {
      process.stderr.write(`${name}: the database did not close within ${INTERRUPT_CLOSE_MS / 1000} s; exiting\n`);
      process.exit(code);
    }, INTERRUPT_CLOSE_MS);
    force.unref();
    void Promise.allSettled(opened.map((db) => db.then((d) => d.abort()))).then(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: ScriptContext = {
    openDatabase(config, owner) {
      const db = openDatabase(config, undefined, owner);
      opened.push(db);
      return db;
    },
  };
  main(ctx).then(
    (code) => {
      // Interrupted: the signal handler ends the process once the database is closed, with its own code.
      if (!interrupted) process.exit(code);
    },
    (err: unknown) => {
      if (interrupted) return; // (the interrupted work fails as its connections are cut)
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\nSee .env.example for every setting.\n`);
        process.exit(78);
      }
      if (err instanceof DataDirLockedError) {
        process.stderr.write(`${name}: ${err.message}\n`);
        process.exit(75);
      }
      process.stderr.write(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
