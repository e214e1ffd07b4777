/**
 * Creates a new embedded database cluster in the folder given as the first argument, then exits: run by
 * `startEmbeddedPostgres` in a child process on a fresh DATA_DIR. PostgreSQL's initdb, run inside PGlite, grows the
 * WebAssembly memory to ≈ 700 MB and that memory is never given back, so a portal that initialised its own data
 * folder would hold it for its whole life; a child that exits returns it, and the portal opens the cluster at the
 * size a restart has (≈ 170 MB for the database).
 */
import { PGlite } from '@electric-sql/pglite';
import { EMBEDDED_START_PARAMS } from './embedded-params.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: embedded-init <folder>\n');
  process.exit(64);
}
const db = await PGlite.create({ dataDir: dir, startParams: EMBEDDED_START_PARAMS });
await db.close();
