/**
 * The embedded PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly) with its data in DATA_DIR, served on a
 * loopback port by pglite-socket, so the rest of the app speaks the ordinary wire protocol through `pg`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { EMBEDDED_START_PARAMS } from './embedded-params.js';
import { ProtocolAwareQueue } from './embedded-queue.js';

/**
 * A fresh folder gets its cluster from a short-lived child process (embedded-init.ts): initdb inside PGlite grows
 * the WebAssembly memory to ≈ 700 MB for good, and the portal should not carry that for its whole life.
 */
async function createClusterInChild(dir: string): Promise<void> {
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`./embedded-init.${ts ? 'ts' : 'js'}`, import.meta.url));
  await promisify(execFile)(process.execPath, [...(ts ? ['--import', 'tsx'] : []), entry, dir], {
    timeout: 300_000,
  });
}

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Start PGlite on `dataDir` (or in memory when `dataDir` is 'memory://'), listening on 127.0.0.1. */
export async function startEmbeddedPostgres(dataDir: string, port = 0): Promise<EmbeddedPostgres> {
  let dir: string | undefined;
  if (dataDir !== 'memory://') {
    dir = path.resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await createClusterInChild(dir);
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
