/**
 * `npm start` entry: one portal process, or with WEB_CONCURRENCY=N (and DATABASE_URL) a primary that runs N
 * portal processes (src/server.ts) with node's cluster module, all on one port. The first worker starts alone
 * (it applies the migrations and the reference data), then the others. The primary forwards SIGTERM/SIGINT to
 * the workers and exits 0 once every one has stopped cleanly; a worker that dies on its own is replaced.
 *
 * The embedded database (no DATABASE_URL) lives inside one process: it stays one process and says so.
 */
import 'dotenv/config';
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from './config.js';
import { createLogger } from './logger.js';

const here = fileURLToPath(import.meta.url);
const serverEntry = path.join(path.dirname(here), `server${path.extname(here)}`);

async function runPrimary(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config.logLevel);
  const n = config.webConcurrency;
  if (n <= 1 || !config.databaseUrl) {
    if (n > 1)
      logger.warn(
        { webConcurrency: n },
        'WEB_CONCURRENCY ignored: the embedded database runs inside one portal process (set DATABASE_URL for several)',
      );
    await import(serverEntry);
    return;
  }

  cluster.setupPrimary({ exec: serverEntry });
  const workers = new Set<Worker>();
  let stopping = false;
  let failures = 0;
  let listened = false;
  const fork = (): Worker => {
    const w = cluster.fork();
    workers.add(w);
    w.once('exit', (code, signal) => {
      workers.delete(w);
      if (stopping) {
        if (code !== 0) failures++;
        if (workers.size === 0) {
          logger.info({ failures }, 'all portal processes stopped');
          process.exit(failures === 0 ? 0 : 1);
        }
        return;
      }
      if (!listened) {
        // It never started (bad settings, database unreachable): starting it again would fail the same way.
        logger.error({ workerPid: w.process.pid, code, signal }, 'the first portal process could not start');
        process.exit(code || 1);
      }
      logger.error({ workerPid: w.process.pid, code, signal }, 'a portal process died; starting another');
      setTimeout(fork, 1000).unref();
    });
    return w;
  };
  cluster.on('listening', (w) => {
    listened = true;
    logger.info({ worker: w.id, workerPid: w.process.pid }, 'portal process listening');
  });

  logger.info({ processes: n }, 'starting portal processes');
  const first = fork();
  await new Promise<void>((resolve) => {
    first.once('listening', () => resolve());
    first.once('exit', () => resolve());
  });
  for (let i = 1; i < n && !stopping; i++) fork();

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, processes: workers.size }, 'stopping portal processes');
    if (workers.size === 0) process.exit(0);
    for (const w of workers) w.process.kill(signal);
    const force = setTimeout(() => {
      logger.error('portal processes did not stop in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000);
    force.unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

runPrimary().catch((err: unknown) => {
  process.stderr.write(
    `The portal could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
