import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';

// DATE columns stay 'YYYY-MM-DD' strings (never Dates shifted by the server's zone); bigint ids are numbers.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export interface Database {
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

export function knexConfig(
  url: string,
  opts: { poolMax: number; statementTimeoutMs: number; logger?: LogSink | undefined },
): Knex.Config {
  const log = opts.logger;
  return {
    log: {
      warn: (m: unknown) => log?.warn({ knex: String(m).split('\n')[0] }, 'knex warning'),
      error: (m: unknown) => log?.error({ knex: String(m).split('\n')[0] }, 'knex error'),
      deprecate: () => {},
      debug: () => {},
    },
    client: 'pg',
    connection: {
      connectionString: url,
      connectionTimeoutMillis: 5000,
      statement_timeout: opts.statementTimeoutMs,
      application_name: 'student-card-portal',
    },
    pool: { min: 0, max: opts.poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: 5000,
  };
}

/** Open the configured database: the server at DATABASE_URL, or the embedded PostgreSQL in DATA_DIR. */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolMax' | 'dbStatementTimeoutMs'>,
  logger?: LogSink,
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir);
    url = embedded.url;
  }
  return connect(url, config, embedded, logger);
}

export function connect(
  url: string,
  config: Pick<Config, 'dbPoolMax' | 'dbStatementTimeoutMs'>,
  embedded?: EmbeddedPostgres,
  logger?: LogSink,
): Database {
  const knex = knexFactory(
    knexConfig(url, { poolMax: config.dbPoolMax, statementTimeoutMs: config.dbStatementTimeoutMs, logger }),
  );
  return {
    knex,
    url,
    embedded: embedded !== undefined,
    poolOptions: (max: number) => ({
      connectionString: url,
      max,
      connectionTimeoutMillis: 5000,
      statement_timeout: config.dbStatementTimeoutMs,
      idleTimeoutMillis: 30_000,
    }),
    async close() {
      await knex.destroy();
      if (embedded) await embedded.stop();
    },
  };
}
