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

/** Start PGlite on `dataDir` (or in memory when `dataDir` is 'memory://'), listening on 127.0.0.1. */
export async function startEmbeddedPostgres(dataDir: string, port = 0): Promise<EmbeddedPostgres> {
  let dir: string | undefined;
  if (dataDir !== 'memory://') {
    dir = path.resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
  }
  const db = await PGlite.create(dir ? { dataDir: dir } : {});
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
