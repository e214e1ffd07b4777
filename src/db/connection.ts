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
  close(): Promise<void>;
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

export function connect(url: string, config: DbSettings, embedded?: EmbeddedPostgres, logger?: LogSink): Database {
  const knex = knexFactory(knexConfig(url, { ...config, logger }));
  enablePreparedStatements(knex, embedded === undefined && config.dbPreparedStatements !== false);
  let closed: Promise<void> | undefined;
  return {
    knex,
    url,
    embedded: embedded !== undefined,
    preparedStatements: embedded === undefined && config.dbPreparedStatements !== false,
    // (pg.Pool's connectionTimeoutMillis also bounds the wait for a free client of the pool.)
    poolOptions: (max: number) => ({ ...pgOptions(url, config), max, idleTimeoutMillis: 30_000 }),
    // Idempotent: a script's Ctrl-C handler and its own `finally` may both close it.
    close() {
      closed ??= (async () => {
        await knex.destroy();
        if (embedded) await embedded.stop();
      })();
      return closed;
    },
  };
}
