import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { defaultQueryTimeoutMs, type Config } from '../config.js';
import { lockDataDir } from './data-dir-lock.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';
import { enablePreparedStatements } from './prepared.js';

// DATE columns stay 'YYYY-MM-DD' strings (never Dates shifted by the server's zone); bigint ids are numbers.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export interface Database {
  /** Whether hot reads may be sent as named statements (a server, and DB_PREPARED_STATEMENTS not false). */
  preparedStatements: boolean;
  knex: Knex;
  /** The connection URL, for the libraries that keep their own small pool (sessions, throttling). */
  url: string;
  embedded: boolean;
  /** Options for the libraries' own pools, with the same timeouts as Knex's. */
  poolOptions(max: number): pg.PoolConfig;
  /** Close when the work is done: waits for the connections in use, then ends them (and the embedded database). */
  close(): Promise<void>;
  /**
   * Stop now (a script's Ctrl-C): cut every connection of the pool, in use or not, so that the server rolls back
   * whatever transaction was open (PostgreSQL does for a client that is gone, and so does the embedded one), then
   * shut the embedded database down cleanly and release its DATA_DIR lock before the pool is closed. The work
   * that was running fails; nothing of it is committed after this.
   */
  abort(): Promise<void>;
}

/** Knex's own warnings go to our logger (or nowhere), never to the console. */
type LogSink = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/** What a connection needs to know; the client-side deadlines default as in src/config.ts. */
export type DbSettings = Pick<Config, 'dbPoolMax' | 'dbStatementTimeoutMs'> &
  Partial<Pick<Config, 'dbConnectTimeoutMs' | 'dbAcquireTimeoutMs' | 'dbQueryTimeoutMs' | 'dbPreparedStatements'>>;

/**
 * Every deadline of a connection, in one place: the server's statement_timeout, and on the client the connect,
 * pool-acquire and per-query deadlines, so that a frozen or unreachable server fails fast instead of hanging.
 */
export function dbTimeouts(s: DbSettings) {
  return {
    statementTimeoutMs: s.dbStatementTimeoutMs,
    connectTimeoutMs: s.dbConnectTimeoutMs ?? 5000,
    acquireTimeoutMs: s.dbAcquireTimeoutMs ?? 5000,
    queryTimeoutMs: s.dbQueryTimeoutMs ?? defaultQueryTimeoutMs(s.dbStatementTimeoutMs),
  };
}

/**
 * The deadline of the libraries' own pools (the sessions, the throttle): their statements are key look-ups and
 * small writes, a few milliseconds each at city scale; the deadline bounds connecting (a pool connection also
 * waits at most that long for a free client) and each statement. Every request reads its session first, so with this
 * deadline a frozen database turns each new request into a 503 within ~3 s whatever the pages' own (longer)
 * DB_STATEMENT_TIMEOUT_MS; never longer than that setting.
 */
export const SIDE_POOL_DEADLINE_MS = 3000;

/** pg connection options with every deadline (Knex's connections and the libraries' own pools alike). */
function pgOptions(url: string, s: DbSettings) {
  const t = dbTimeouts(s);
  return {
    connectionString: url,
    connectionTimeoutMillis: t.connectTimeoutMs,
    statement_timeout: t.statementTimeoutMs,
    query_timeout: t.queryTimeoutMs,
  };
}

export function knexConfig(url: string, opts: DbSettings & { logger?: LogSink | undefined }): Knex.Config {
  const log = opts.logger;
  return {
    log: {
      warn: (m: unknown) => log?.warn({ knex: String(m).split('\n')[0] }, 'knex warning'),
      error: (m: unknown) => log?.error({ knex: String(m).split('\n')[0] }, 'knex error'),
      deprecate: () => {},
      debug: () => {},
    },
    client: 'pg',
    connection: { ...pgOptions(url, opts), application_name: 'student-card-portal' },
    pool: { min: 0, max: opts.dbPoolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: dbTimeouts(opts).acquireTimeoutMs,
  };
}

/**
 * Open the configured database: the server at DATABASE_URL, or the embedded PostgreSQL in DATA_DIR, after
 * taking the folder's owner lock for `owner` (throws DataDirLockedError when another process holds it).
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & DbSettings,
  logger?: LogSink,
  owner = 'another process',
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const lock = config.dataDir === 'memory://' ? undefined : await lockDataDir(config.dataDir, owner);
    try {
      const pglite = await startEmbeddedPostgres(config.dataDir);
      embedded = {
        url: pglite.url,
        async stop() {
          await pglite.stop();
          await lock?.release();
        },
      };
    } catch (err) {
      await lock?.release();
      throw err;
    }
    url = embedded.url;
  }
  return connect(url, config, embedded, logger);
}

/** The socket under a pg connection (pg has no public way to cut a connection that is running a query). */
type PgConnection = pg.Client & { connection?: { stream?: { destroy(): void } } };

export function connect(url: string, config: DbSettings, embedded?: EmbeddedPostgres, logger?: LogSink): Database {
  const base = knexConfig(url, { ...config, logger });
  // Every connection the pool has opened and not yet seen end, for abort().
  const open = new Set<PgConnection>();
  const knex = knexFactory({
    ...base,
    pool: {
      ...base.pool,
      afterCreate(conn: PgConnection, done: (err: Error | null, conn: PgConnection) => void) {
        open.add(conn);
        conn.once('end', () => open.delete(conn));
        done(null, conn);
      },
    },
  });
  const preparedStatements = embedded === undefined && config.dbPreparedStatements !== false;
  enablePreparedStatements(knex, preparedStatements);
  // Each step runs once, whichever of close() and abort() comes first (a script's Ctrl-C handler and its own
  // `finally` may both call them).
  let knexDestroyed: Promise<void> | undefined;
  let embeddedStopped: Promise<void> | undefined;
  const destroyKnex = () => (knexDestroyed ??= knex.destroy());
  const stopEmbedded = () => (embeddedStopped ??= embedded ? embedded.stop() : Promise.resolve());
  return {
    knex,
    url,
    embedded: embedded !== undefined,
    preparedStatements,
    // (pg.Pool's connectionTimeoutMillis also bounds the wait for a free client of the pool.)
    poolOptions: (max: number) => {
      const o = pgOptions(url, config);
      return {
        ...o,
        connectionTimeoutMillis: Math.min(o.connectionTimeoutMillis, SIDE_POOL_DEADLINE_MS),
        statement_timeout: Math.min(o.statement_timeout, SIDE_POOL_DEADLINE_MS),
        query_timeout: Math.min(o.query_timeout, defaultQueryTimeoutMs(SIDE_POOL_DEADLINE_MS)),
        max,
        idleTimeoutMillis: 30_000,
      };
    },
    async close() {
      await destroyKnex();
      await stopEmbedded();
    },
    async abort() {
      for (const conn of open) conn.connection?.stream?.destroy();
      await stopEmbedded();
      await destroyKnex();
    },
  };
}
