/**
 * `npx tsx scripts/bench/ingest-profile.ts <database-url> [--batches N] [--size 500] [--explain]` — what one reader
 * API batch asks the database on a city built by `demo:city`: N batches (default 3) of first arrivals of one
 * school's students (subscribed or not, as at a gate) go through `ingestSwipes` exactly as POST /api/v1/swipes
 * calls it, and every statement is listed with its time. With --explain, `auto_explain` (ANALYZE, BUFFERS,
 * triggers) prints each statement's plan as the server ran it, with the time spent in foreign-key and other
 * triggers. Today's swipes, SMS, stored days and the benchmark's readers are removed afterwards.
 */
import { connect } from '../../src/db/connection.js';
import { loadConfig } from '../../src/config.js';
import { ingestSwipes } from '../../src/domain/swipes/ingest.js';
import { createReader } from '../../src/domain/readers/reader-tokens.js';
import { cleanToday, gatePupils } from './readers.js';

async function main() {
  const [url, ...rest] = process.argv.slice(2);
  if (!url) throw new Error('usage: ingest-profile.ts <database-url> [--batches N] [--size 500] [--explain]');
  const arg = (name: string, fallback: number) => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : fallback;
  };
  const batches = arg('--batches', 3);
  const size = arg('--size', 500);
  const explain = rest.includes('--explain');
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, SESSION_SECRET: 'x'.repeat(32) });
  // One connection: the auto_explain settings below stay on the session every statement runs in.
  const db = connect(url, { dbPoolMax: 1, dbStatementTimeoutMs: 120_000 });
  const knex = db.knex;
  try {
    await cleanToday(knex);
    const pool = await gatePupils(knex);
    const [schoolId, pupils] = [...pool.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const { reader } = await createReader(knex, { schoolId, name: `bench-profile-${Date.now()}` });
    const notices: string[] = [];
    if (explain) {
      await knex.raw(`load 'auto_explain'`);
      for (const s of [
        'auto_explain.log_min_duration = 0',
        'auto_explain.log_analyze = on',
        'auto_explain.log_buffers = on',
        'auto_explain.log_triggers = on',
        'auto_explain.log_nested_statements = on',
        'auto_explain.log_level = notice',
        'client_min_messages = notice',
      ])
        await knex.raw(`set ${s}`);
      const client = (await (knex.client as { acquireConnection(): Promise<unknown> }).acquireConnection()) as {
        on(ev: string, f: (m: { message: string }) => void): void;
      };
      client.on('notice', (m) => notices.push(m.message));
      await (knex.client as { releaseConnection(c: unknown): Promise<void> }).releaseConnection(client);
    }
    for (let b = 0; b < batches; b++) {
      const batch = pupils.splice(0, size);
      if (batch.length === 0) break;
      const at = new Date();
      const captured: { sql: string; uid: string; start: number; ms?: number }[] = [];
      const onQuery = (q: { sql: string; __knexQueryUid: string }) =>
        captured.push({ sql: q.sql, uid: q.__knexQueryUid, start: performance.now() });
      const onResponse = (_r: unknown, q: { __knexQueryUid: string }) => {
        const c = captured.find((x) => x.uid === q.__knexQueryUid);
        if (c) c.ms = performance.now() - c.start;
      };
      knex.on('query', onQuery).on('query-response', onResponse);
      notices.length = 0;
      const t0 = performance.now();
      const out = await ingestSwipes(
        knex,
        reader,
        batch.map((p) => ({ event_id: `profile-${b}-${p.studentId}`, card_uid: p.card, swiped_at: at.toISOString() })),
        {
          now: new Date(at.getTime() + 1000),
          departureMinMinutes: config.attendance.departureMinMinutes,
          lateSwipeMinutes: config.attendance.lateSwipeMinutes,
        },
      );
      const total = performance.now() - t0;
      knex.off('query', onQuery).off('query-response', onResponse);
      const sqlMs = captured.reduce((s, c) => s + (c.ms ?? 0), 0);
      process.stdout.write(
        `\n## batch ${b + 1}: ${batch.length} swipes, ${out.notices} SMS queued, ${total.toFixed(1)} ms (statements ${sqlMs.toFixed(1)} ms, the rest Node and waits): ${captured.length} statements\n`,
      );
      for (const c of captured)
        process.stdout.write(`- ${(c.ms ?? NaN).toFixed(1)} ms  ${c.sql.replace(/\s+/g, ' ').slice(0, 140)}\n`);
      if (explain && b === batches - 1) for (const n of notices) process.stdout.write(`\n${n}\n`);
    }
  } finally {
    await cleanToday(knex);
    await knex.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
