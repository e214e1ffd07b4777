/**
 * Dispatcher throughput: how fast one or several processes drain a queue of SMS with the log provider.
 *
 *   BENCH_DATABASE_URL=postgres://… npx tsx scripts/bench-dispatcher.ts [messages=50000] [processes=1,2]
 *
 * `benchDispatcher()` is what `npm run bench` calls. For each process count it empties `sms_outbox` (the
 * database is migrated first: use a disposable one), runs `VACUUM ANALYZE` on the EMPTY table — the state
 * after a quiet night, when the statistics say the queue is empty — then queues `messages` rows at once and
 * starts that many worker processes (child processes of this script, each with its own connection pool and
 * its own SmsDispatcher as the app builds it). It reports SMS/s from the first claim to the last outcome, and
 * checks that every message was sent exactly once (status 'sent', attempts 1).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FixedClock } from '../src/clock.js';
import { connect } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { SmsDispatcher } from '../src/domain/sms/dispatcher.js';
import { LogProvider } from '../src/domain/sms/providers/log-provider.js';

export interface DispatcherBenchOptions {
  databaseUrl: string;
  /** Messages queued before each run (default 50,000). */
  messages?: number;
  /** Process counts to run, one run each (default [1, 2]). */
  processes?: number[];
  /** Give up a run after this long and report the rate so far (default 300 s). */
  maxSeconds?: number;
  batchSize?: number;
  concurrency?: number;
}

export interface DispatcherBenchRow {
  processes: number;
  messages: number;
  sent: number;
  seconds: number;
  perSecond: number;
  /** Messages sent more than once, or not sent (must both be 0). */
  duplicates: number;
  unsent: number;
}

const NOW = '2026-11-24T00:00:00Z';
const SELF = fileURLToPath(import.meta.url);

async function prepareQueue(databaseUrl: string, messages: number): Promise<void> {
  const db = connect(databaseUrl, { dbPoolMax: 2, dbStatementTimeoutMs: 600_000 });
  try {
    await migrateLatest(db.knex);
    await db.knex.raw('truncate sms_outbox restart identity');
    await db.knex.raw('vacuum analyze sms_outbox');
    await db.knex.raw(
      `insert into sms_outbox (kind, phone, body, status, next_attempt_at, created_at)
       select 'message', '09' || lpad((i % 100000000)::text, 8, '0'), '【臺北市數位學生證】測試訊息 ' || i, 'queued',
              timestamptz '${NOW}' - (i || ' milliseconds')::interval, timestamptz '${NOW}'
       from generate_series(1, ?) as i`,
      [messages],
    );
  } finally {
    await db.knex.destroy();
  }
}

/** One worker process: drain until nothing is due; print its count as JSON on stdout's last line. */
async function worker(): Promise<void> {
  const databaseUrl = process.env.BENCH_WORKER_URL!;
  const batchSize = Number(process.env.BENCH_BATCH_SIZE) || undefined;
  const concurrency = Number(process.env.BENCH_CONCURRENCY) || undefined;
  const deadline = Date.now() + Number(process.env.BENCH_MAX_SECONDS ?? 300) * 1000;
  const db = connect(databaseUrl, { dbPoolMax: 4, dbStatementTimeoutMs: 600_000 });
  const d = new SmsDispatcher({
    knex: db.knex,
    clock: new FixedClock(NOW),
    provider: new LogProvider(),
    maxAttempts: 5,
    batchSize,
    concurrency,
  });
  let sent = 0;
  let firstAt = 0;
  let lastAt = 0;
  process.send?.({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  try {
    while (Date.now() < deadline) {
      const r = await d.runOnce();
      if (r.claimed === 0) break;
      firstAt ||= Date.now();
      sent += r.sent;
      lastAt = Date.now();
    }
  } finally {
    await db.knex.destroy();
  }
  process.send?.({ sent, firstAt, lastAt });
}

export async function benchDispatcher(o: DispatcherBenchOptions): Promise<DispatcherBenchRow[]> {
  const messages = o.messages ?? 50_000;
  const rows: DispatcherBenchRow[] = [];
  for (const processes of o.processes ?? [1, 2]) {
    await prepareQueue(o.databaseUrl, messages);
    const children = Array.from({ length: processes }, () =>
      fork(SELF, ['--worker'], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          BENCH_WORKER_URL: o.databaseUrl,
          BENCH_MAX_SECONDS: String(o.maxSeconds ?? 300),
          BENCH_BATCH_SIZE: o.batchSize ? String(o.batchSize) : '',
          BENCH_CONCURRENCY: o.concurrency ? String(o.concurrency) : '',
          NODE_ENV: 'production',
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const results = children.map(
      (c) =>
        new Promise<{ sent: number; firstAt: number; lastAt: number }>((resolve, reject) => {
          c.on('message', (m: { sent?: number; firstAt: number; lastAt: number }) => {
            if (m.sent !== undefined) resolve(m as { sent: number; firstAt: number; lastAt: number });
          });
          c.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`bench worker exited with ${code}`))));
        }),
    );
    await Promise.all(children.map((c) => new Promise<void>((r) => c.once('message', () => r()))));
    for (const c of children) c.send({ go: true });
    const done = await Promise.all(results);
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    const started = Math.min(...done.filter((d) => d.firstAt > 0).map((d) => d.firstAt));
    const ended = Math.max(...done.map((d) => d.lastAt));
    const sent = done.reduce((a, d) => a + d.sent, 0);
    const seconds = Math.max(0.001, (ended - started) / 1000);

    const db = connect(o.databaseUrl, { dbPoolMax: 1, dbStatementTimeoutMs: 600_000 });
    try {
      const check = await db.knex.raw<{ rows: { duplicates: number; unsent: number }[] }>(
        `select count(*) filter (where status = 'sent' and attempts > 1)::int as duplicates,
                count(*) filter (where status <> 'sent')::int as unsent
         from sms_outbox`,
      );
      rows.push({ processes, messages, sent, seconds, perSecond: Math.round(sent / seconds), ...check.rows[0]! });
    } finally {
      await db.knex.destroy();
    }
  }
  return rows;
}

export function formatDispatcherBench(rows: DispatcherBenchRow[]): string {
  const lines = [
    '| dispatcher (log provider) | messages | sent | seconds | SMS/s | sent twice | unsent |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.processes} process${r.processes > 1 ? 'es' : ''} | ${r.messages} | ${r.sent} | ${r.seconds.toFixed(1)} | ${r.perSecond} | ${r.duplicates} | ${r.unsent} |`,
    );
  }
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (process.argv.includes('--worker')) {
  worker().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (isMain) {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write(
      'BENCH_DATABASE_URL=postgres://… is required (a disposable database: its sms_outbox is emptied)\n',
    );
    process.exit(64);
  }
  const messages = Number(process.argv[2] ?? 50_000);
  const processes = (process.argv[3] ?? '1,2').split(',').map(Number);
  benchDispatcher({ databaseUrl, messages, processes, maxSeconds: Number(process.env.BENCH_MAX_SECONDS ?? 300) }).then(
    (rows) => {
      process.stdout.write(`${formatDispatcherBench(rows)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
