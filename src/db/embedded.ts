/**
 * The embedded PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly) with its data in DATA_DIR, served on a
 * loopback port by pglite-socket, so the rest of the app speaks the ordinary wire protocol through `pg`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ProtocolAwareQueue } from './embedded-queue.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite's own start parameters, with smaller buffers than PostgreSQL's server defaults (128 MB of shared
 * buffers alone): the embedded database serves one laptop or one test run, and its memory is the app process's.
 */
export const EMBEDDED_START_PARAMS = [
  ...['--single', '-F', '-O', '-j'],
  ...[
    'search_path=public',
    'exit_on_error=false',
    'log_checkpoints=false',
    'max_worker_processes=0',
    'max_parallel_workers=0',
  ]
    .concat(['max_parallel_workers_per_gather=0', 'io_method=sync', 'max_parallel_maintenance_workers=0'])
    .concat(['shared_buffers=16MB', 'work_mem=2MB', 'maintenance_work_mem=16MB', 'temp_buffers=2MB'])
    .flatMap((setting) => ['-c', setting]),
];

/** Start PGlite on `dataDir` (or in memory when `dataDir` is 'memory://'), listening on 127.0.0.1. */
export async function startEmbeddedPostgres(dataDir: string, port = 0): Promise<EmbeddedPostgres> {
  let dir: string | undefined;
  if (dataDir !== 'memory://') {
    dir = path.resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
  }
  const db = await PGlite.create({ ...(dir ? { dataDir: dir } : {}), startParams: EMBEDDED_START_PARAMS });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 100 });
  // Replace the server's message queue (see embedded-queue.ts); connections pick it up when they attach.
  (server as unknown as { queryQueue: ProtocolAwareQueue }).queryQueue = new ProtocolAwareQueue(db);
  await server.start();
  const conn = server.getServerConn();
  const actualPort = Number(conn.split(':').pop());
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${actualPort}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
