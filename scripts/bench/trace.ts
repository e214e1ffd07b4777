/**
 * `npx tsx scripts/bench/trace.ts <database-url> [page-key …] [--analyze] [--full] [--now=ISO]` — what each benchmark page asks the
 * database: the page is requested in-process (the app on that database, the same accounts as the benchmark) and
 * every statement sent through Knex is listed with its time; the session store's own round trips are counted
 * apart. With --analyze each SELECT is run again under EXPLAIN (ANALYZE, BUFFERS) and its plan is printed; with --full, each statement and its bindings are printed whole.
 * With --now=ISO the app's clock starts at that instant (as APP_NOW does): a city holds only the days before it
 * was built, so "today" on the staff 首頁 has no stored day unless the clock is set to one of them.
 */
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { connect } from '../../src/db/connection.js';
import { createLogger } from '../../src/logger.js';
import { scene } from './pages.js';
import { SESSION_SECRET } from './processes.js';

async function main() {
  const [url, ...rest] = process.argv.slice(2);
  if (!url) throw new Error('usage: trace.ts <database-url> [page-key …] [--analyze]');
  const analyze = rest.includes('--analyze');
  const full = rest.includes('--full');
  const keys = rest.filter((k) => !k.startsWith('--'));
  const now = rest.find((k) => k.startsWith('--now='))?.slice('--now='.length);
  // The reference lists kept in memory as in production (the page is requested once before it is traced).
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    SESSION_SECRET,
    SMS_DISPATCHER: 'false',
    REFERENCE_CACHE_SECONDS: '30',
  });
  const db = connect(url, { dbPoolMax: 4, dbStatementTimeoutMs: 60_000 });
  const app = createApp({ config, db, clock: systemClock(now), logger: createLogger('warn') });
  const s = await scene(db.knex);
  const sessionQueries: { text: string; values: unknown[] }[] = [];
  // The session store's pool is its own: count its statements from pg_stat_statements-free means — wrap pg.
  const pg = await import('pg');
  const orig = pg.default.Client.prototype.query;
  (pg.default.Client.prototype as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
    const values = (
      Array.isArray(args[1]) ? args[1] : ((args[0] as { values?: unknown[] })?.values ?? [])
    ) as unknown[];
    if (text && /"session"|session/.test(text) && !/knex/.test(text) && !/^explain/.test(text))
      sessionQueries.push({ text, values });
    return (orig as (...a: unknown[]) => unknown).apply(this, args);
  };
  try {
    for (const t of s.targets) {
      if (keys.length > 0 && !keys.includes(t.key)) continue;
      const captured: { sql: string; bindings: unknown[]; uid: string; start: number; ms?: number }[] = [];
      const onQuery = (q: { sql: string; bindings?: unknown[]; __knexQueryUid: string }) =>
        captured.push({ sql: q.sql, bindings: q.bindings ?? [], uid: q.__knexQueryUid, start: performance.now() });
      const onResponse = (_r: unknown, q: { __knexQueryUid: string }) => {
        const c = captured.find((x) => x.uid === q.__knexQueryUid);
        if (c) c.ms = performance.now() - c.start;
      };
      const cookie = t.role ? s.cookies[t.role] : undefined;
      // Warm once, then trace.
      await request(app)
        .get(t.path)
        .set('cookie', cookie ?? '');
      sessionQueries.length = 0;
      db.knex.on('query', onQuery).on('query-response', onResponse);
      const t0 = performance.now();
      const res = await request(app)
        .get(t.path)
        .set('cookie', cookie ?? '');
      const total = performance.now() - t0;
      db.knex.off('query', onQuery).off('query-response', onResponse);
      process.stdout.write(
        `\n## ${t.key} ${t.path} → ${res.status} in ${total.toFixed(1)} ms: ${captured.length} Knex statements, ${sessionQueries.length} session-store statements\n`,
      );
      for (const q of [...sessionQueries]) {
        process.stdout.write(`   session: ${q.text.replace(/\s+/g, ' ').slice(0, 100)}\n`);
        // The session store's read (the session with its user) is the first statement of every signed-in page.
        if (analyze && /^\s*(select|with)\b/i.test(q.text)) {
          const r = await db.knex.raw<{ rows: Record<string, string>[] }>(
            `explain (analyze, buffers) ${q.text.replace(/\$(\d+)/g, '?')}`,
            q.values as never[],
          );
          for (const row of r.rows) process.stdout.write(`      ${row['QUERY PLAN']}\n`);
        }
      }
      for (const c of captured) {
        process.stdout.write(
          `- ${(c.ms ?? NaN).toFixed(1)} ms  ${full ? c.sql : c.sql.replace(/\s+/g, ' ').slice(0, 300)}\n    ${full ? JSON.stringify(c.bindings) : JSON.stringify(c.bindings).slice(0, 200)}\n`,
        );
        if (analyze && /^\s*(select|with)\b/i.test(c.sql)) {
          const client = db.knex.client as {
            acquireConnection(): Promise<unknown>;
            releaseConnection(c: unknown): Promise<void>;
          };
          const conn = (await client.acquireConnection()) as {
            query(sql: string, b: unknown[]): Promise<{ rows: Record<string, string>[] }>;
          };
          try {
            const r = await conn.query(`explain (analyze, buffers) ${c.sql}`, c.bindings);
            for (const row of r.rows) process.stdout.write(`      ${row['QUERY PLAN']}\n`);
          } finally {
            await client.releaseConnection(conn);
          }
        }
      }
    }
  } finally {
    await app.shutdown();
    await db.knex.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
