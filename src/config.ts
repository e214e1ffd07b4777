import { z } from 'zod';

/**
 * Every setting of the portal, parsed once from the environment (and `.env`).
 * A bad or missing setting stops the start with a message that names it.
 */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: int(1, 65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    PUBLIC_URL: z.url().optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    DB_POOL_MAX: int(1, 100).optional(),
    SESSION_POOL_MAX: int(1, 50).default(5),
    REFERENCE_CACHE_SECONDS: int(0, 3600).optional(),
    READER_API_CONCURRENCY: int(1, 100).optional(),
    READER_API_QUEUE: int(0, 10_000).default(256),
    READER_API_QUEUE_WAIT_MS: int(100, 120_000).default(20_000),
    WEB_CONCURRENCY: int(1, 64).default(1),
    DB_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(15_000),
    DB_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5000),
    DB_ACQUIRE_TIMEOUT_MS: int(100, 120_000).default(5000),
    DB_QUERY_TIMEOUT_MS: int(100, 600_000).optional(),
    DB_READY_TIMEOUT_MS: int(100, 60_000).default(1000),
    DB_PREPARED_STATEMENTS: bool.default(true),
    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    TRUST_PROXY: int(0, 10).default(0),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    CAPTCHA_FIXED_TEXT: z
      .string()
      .regex(/^[A-Za-z0-9]{1,12}$/, 'letters and digits, at most 12')
      .optional(),
    APP_NOW: z.iso.datetime({ offset: true }).optional(),
    SEED_DEMO: bool.optional(),
    SMS_PROVIDER: z.enum(['log', 'mitake']).default('log'),
    MITAKE_URL: z.url().optional(),
    MITAKE_USERNAME: z.string().min(1).optional(),
    MITAKE_PASSWORD: z.string().min(1).optional(),
    SMS_CALLBACK_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    SMS_DISPATCHER: bool.default(true),
    SMS_DISPATCH_INTERVAL_MS: int(50, 600_000).default(2000),
    SMS_MAX_ATTEMPTS: int(1, 20).default(5),
    SMS_DISPATCH_BATCH_SIZE: int(1, 2000).default(200),
    SMS_DISPATCH_CONCURRENCY: int(1, 200).default(16),
    DEPARTURE_MIN_MINUTES: int(0, 600).default(10),
    LATE_SWIPE_MINUTES: int(1, 1440).default(30),
    OIDC_ISSUER: z.url().optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(65_000),
    SHUTDOWN_TIMEOUT_MS: int(100, 120_000).default(10_000),
  })
  .superRefine((env, ctx) => {
    const prod = env.NODE_ENV === 'production';
    const need = (key: keyof typeof env, why: string) => {
      if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
    };
    if (prod) {
      need('DATABASE_URL', 'is required in production');
      need('SESSION_SECRET', 'is required in production');
      need('PUBLIC_URL', 'is required in production');
      if (env.CAPTCHA_FIXED_TEXT !== undefined)
        ctx.addIssue({ code: 'custom', path: ['CAPTCHA_FIXED_TEXT'], message: 'is refused in production' });
      if (env.APP_NOW !== undefined)
        ctx.addIssue({ code: 'custom', path: ['APP_NOW'], message: 'is refused in production' });
      if (env.OIDC_ISSUER === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['OIDC_ISSUER'],
          message: 'is required in production (the Taipei Card issuer)',
        });
    }
    if (env.DB_QUERY_TIMEOUT_MS !== undefined && env.DB_QUERY_TIMEOUT_MS <= env.DB_STATEMENT_TIMEOUT_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['DB_QUERY_TIMEOUT_MS'],
        message: 'must be longer than DB_STATEMENT_TIMEOUT_MS (the server answers first while it is alive)',
      });
    if (env.OIDC_ISSUER !== undefined) {
      need('OIDC_CLIENT_ID', 'is required when OIDC_ISSUER is set');
      need('OIDC_CLIENT_SECRET', 'is required when OIDC_ISSUER is set');
    }
    if (env.SMS_PROVIDER === 'mitake') {
      need('MITAKE_URL', 'is required when SMS_PROVIDER=mitake');
      need('MITAKE_USERNAME', 'is required when SMS_PROVIDER=mitake');
      need('MITAKE_PASSWORD', 'is required when SMS_PROVIDER=mitake');
    }
  });

export type Config = Readonly<{
  env: 'development' | 'test' | 'production';
  isProduction: boolean;
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolMax: number;
  dbStatementTimeoutMs: number;
  /** Client-side deadlines: opening a connection, waiting for a pooled one, the answer to one query. */
  dbConnectTimeoutMs: number;
  dbAcquireTimeoutMs: number;
  dbQueryTimeoutMs: number;
  /** How long /readyz waits for `select 1`. */
  dbReadyTimeoutMs: number;
  /**
   * Named (prepared) statements for the hot reads on a server (src/db/prepared.ts, the session store); false
   * behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
   */
  dbPreparedStatements: boolean;
  sessionPoolMax: number;
  /** How long a process keeps the reference lists (districts, levels, schools) in memory; 0: read each time. */
  referenceCacheMs: number;
  /** The reader API: batches ingested at once, batches waiting for a turn, and how long one may wait. */
  readerApi: Readonly<{ concurrency: number; queue: number; queueWaitMs: number }>;
  webConcurrency: number;
  sessionSecret: string;
  trustProxy: number;
  logLevel: string;
  captchaFixedText: string | undefined;
  appNow: string | undefined;
  seedDemo: boolean;
  sms: Readonly<{
    provider: 'log' | 'mitake';
    mitakeUrl: string | undefined;
    mitakeUsername: string | undefined;
    mitakePassword: string | undefined;
    callbackToken: string | undefined;
    dispatcher: boolean;
    intervalMs: number;
    maxAttempts: number;
    batchSize: number;
    concurrency: number;
  }>;
  attendance: Readonly<{ departureMinMinutes: number; lateSwipeMinutes: number }>;
  oidc: Readonly<{ issuer: string | undefined; clientId: string | undefined; clientSecret: string | undefined }>;
  keepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
}>;

/** The client's deadline for one query when DB_QUERY_TIMEOUT_MS is unset: a second after the server's own. */
export function defaultQueryTimeoutMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + 1000;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The settings of a process entry point: a bad one is named on stderr and the process exits 78 (EX_CONFIG). */
export function loadConfigOrExit(source: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every setting.\n`);
      process.exit(78);
    }
    throw err;
  }
}

/** Parse the environment. Pass `process.env` (after dotenv) or a test's own object. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as in most .env conventions.
  const env = Object.fromEntries(
    Object.entries(source).filter(([k, v]) => v !== undefined && v !== '' && k in EnvSchema.shape),
  );
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`));
  }
  const e = parsed.data;
  // A server takes 20 connections per process by default; the embedded database runs one statement at a time.
  const dbPoolMax = e.DB_POOL_MAX ?? (e.DATABASE_URL ? 20 : 10);
  const config: Config = {
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === 'production',
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    dbPoolMax,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbAcquireTimeoutMs: e.DB_ACQUIRE_TIMEOUT_MS,
    dbQueryTimeoutMs: e.DB_QUERY_TIMEOUT_MS ?? defaultQueryTimeoutMs(e.DB_STATEMENT_TIMEOUT_MS),
    dbReadyTimeoutMs: e.DB_READY_TIMEOUT_MS,
    dbPreparedStatements: e.DB_PREPARED_STATEMENTS,
    sessionPoolMax: e.SESSION_POOL_MAX,
    // Tests truncate and refill the reference tables between cases: they read them each time unless they ask.
    referenceCacheMs: (e.REFERENCE_CACHE_SECONDS ?? (e.NODE_ENV === 'test' ? 0 : 30)) * 1000,
    // Half the pool by default, so a burst of readers never takes every connection from the pages.
    readerApi: {
      concurrency: Math.min(e.READER_API_CONCURRENCY ?? Math.max(1, Math.floor(dbPoolMax / 2)), dbPoolMax),
      queue: e.READER_API_QUEUE,
      queueWaitMs: e.READER_API_QUEUE_WAIT_MS,
    },
    webConcurrency: e.WEB_CONCURRENCY,
    sessionSecret: e.SESSION_SECRET ?? 'development-only-session-secret-not-for-production',
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    captchaFixedText: e.CAPTCHA_FIXED_TEXT,
    appNow: e.APP_NOW,
    seedDemo: e.SEED_DEMO ?? e.NODE_ENV !== 'production',
    sms: {
      provider: e.SMS_PROVIDER,
      mitakeUrl: e.MITAKE_URL,
      mitakeUsername: e.MITAKE_USERNAME,
      mitakePassword: e.MITAKE_PASSWORD,
      callbackToken: e.SMS_CALLBACK_TOKEN,
      dispatcher: e.SMS_DISPATCHER,
      intervalMs: e.SMS_DISPATCH_INTERVAL_MS,
      maxAttempts: e.SMS_MAX_ATTEMPTS,
      batchSize: e.SMS_DISPATCH_BATCH_SIZE,
      concurrency: e.SMS_DISPATCH_CONCURRENCY,
    },
    attendance: { departureMinMinutes: e.DEPARTURE_MIN_MINUTES, lateSwipeMinutes: e.LATE_SWIPE_MINUTES },
    oidc: { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET },
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
  return Object.freeze(config);
}
