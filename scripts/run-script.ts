/**
 * How every admin script ends: its exit code, a bad setting named with exit 78, the embedded database in use by
 * another process with exit 75 (try again once it has stopped), any other failure with 1. Ctrl-C (SIGINT) or
 * SIGTERM closes what the script registered with `closeOnInterrupt` (the database: its pools, the embedded
 * PostgreSQL and the data folder's lock), then exits 130 / 143; an unfinished transaction is rolled back.
 */
import { ConfigError } from '../src/config.js';
import { DataDirLockedError } from '../src/db/data-dir-lock.js';

export interface ScriptContext {
  closeOnInterrupt(close: () => Promise<void>): void;
}

const INTERRUPT_CLOSE_MS = 5000;

export function runScript(name: string, main: (ctx: ScriptContext) => Promise<number>): void {
  const closers: (() => Promise<void>)[] = [];
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${name}: ${signal}, stopping: closing the database…\n`);
    const code = signal === 'SIGINT' ? 130 : 143;
    const force = setTimeout(() => process.exit(code), INTERRUPT_CLOSE_MS);
    force.unref();
    void Promise.allSettled(closers.map((c) => c())).then(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main({ closeOnInterrupt: (c) => closers.push(c) }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (interrupted) return; // the signal handler ends the process
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
