/**
 * `npm run bench` — the portal's speed at city scale, in one go, on PostgreSQL servers built by `demo:city`:
 *
 *   BENCH_DATABASE_URL             the city (e.g. demo:city --schools 150 --students-per-school 2000)      required
 *   BENCH_ONE_SCHOOL_DATABASE_URL  one school (demo:city --schools 1 …) for the city ÷ one-school growth     optional
 *
 * 1. an Express hello-world in its own process: the baseline (measured again after the page rows: on a shared
 *    machine the ratios are only as good as the two agree; the load averages at both ends are printed);
 * 2. the portal in its own process, production mode (views cached, LOG_LEVEL=warn), on the city: every page row
 *    with autocannon (BENCH_CONNECTIONS, default 32; BENCH_SECONDS each, default 10) as a signed-in user of the
 *    city school with the highest id (sessions written into the session table: see bench/sessions.ts);
 * 3. the same on the one-school database (growth of p50), and with WEB_CONCURRENCY=2 when the portal has it;
 * 4. the reader API (1, 8, 32 readers posting 500-swipe batches of first arrivals), the dispatcher (BENCH_SMS
 *    messages, default 50,000, with the log provider; one process, then two) and a morning peak
 *    (BENCH_PEAK_RATE swipes/s, default 300, for BENCH_PEAK_SECONDS, default 600: p99 of swipe → provider);
 * 5. a 2,000-student roster import (`npm run admin -- import`, its own process) on a scratch database of the same
 *    server, and the embedded default's RSS under load.
 *
 * Prints one markdown table of the pages, one of the reader API / dispatcher / peak / import, and the targets with
 * met, gap or not measured. BENCH_SKIP=pages,readers,dispatcher,peak,one-school,cluster,import,embedded leaves parts
 * out (pages: no page row at all, e.g. to measure the readers alone). The databases get their migrations (the
 * portal applies them on start) and, during the run, sessions and benchmark readers; today's swipes and SMS are
 * removed again.
 */
import 'dotenv/config';
import { cpus, loadavg, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { connect, type Database } from '../src/db/connection.js';
import { load, type LoadResult } from './bench/load.js';
import { scene } from './bench/pages.js';
import { build, ROOT, startBaseline, startPortal, type Proc } from './bench/processes.js';
import { drain, peak, readerRun, type DispatchResult, type ReaderResult } from './bench/readers.js';
import { embeddedRow } from './bench/embedded.js';
import { importRow, type ImportResult } from './bench/import.js';
import { PEAK_MIN_SECONDS, verdicts } from './bench/targets.js';

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a whole number ≥ 1 (got ${v})`);
  return Number(v);
};
const SECONDS = num('BENCH_SECONDS', 10);
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const SMS = num('BENCH_SMS', 50_000);
const PEAK_RATE = num('BENCH_PEAK_RATE', 300);
const PEAK_SECONDS = num('BENCH_PEAK_SECONDS', PEAK_MIN_SECONDS);
const SKIP = new Set(
  (process.env.BENCH_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
/** BENCH_PAGES=parent-home,reports: only those page rows (the keys of bench/pages.ts), e.g. to profile one page. */
const PAGES = new Set(
  (process.env.BENCH_PAGES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const out = (line = '') => process.stdout.write(`${line}\n`);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

interface PageRow {
  name: string;
  path: string;
  city?: LoadResult;
  one?: LoadResult;
  cluster?: LoadResult;
  note?: string;
}

async function pagesOn(
  url: string,
  label: string,
  rows: PageRow[],
  column: 'city' | 'one' | 'cluster',
  extraEnv: Record<string, string> = {},
) {
  const db: Database = connect(url, { dbPoolMax: 2, dbStatementTimeoutMs: 60_000 });
  let portal: Proc | undefined;
  try {
    portal = await startPortal(url, extraEnv);
    const s = await scene(db.knex);
    out(`${label}: ${s.schoolName} (${s.students} of ${s.cityStudents} students), portal pid ${portal.child.pid}`);
    for (const t of s.targets.filter((x) => PAGES.size === 0 || PAGES.has(x.key))) {
      let row = rows.find((r) => r.name === t.name);
      if (!row) rows.push((row = { name: t.name, path: t.path }));
      try {
        row[column] = await load(`${portal.base}${t.path}`, {
          seconds: SECONDS,
          connections: CONNECTIONS,
          cookie: t.role ? s.cookies[t.role] : undefined,
        });
        out(
          `  ${t.name}: ${row[column]!.rps.toFixed(0)} req/s, p50 ${row[column]!.p50} ms, p99 ${row[column]!.p99} ms`,
        );
      } catch (e) {
        row.note = `${label}: ${(e as Error).message}`;
        out(`  ${t.name}: FAILED ${(e as Error).message}`);
      }
    }
    return await portal.rss();
  } finally {
    await portal?.stop();
    await db.knex.destroy();
  }
}

async function main(): Promise<void> {
  const cityUrl = process.env.BENCH_DATABASE_URL;
  if (!cityUrl) {
    process.stderr.write(
      'BENCH_DATABASE_URL is not set: build a city first, e.g.\n  DATABASE_URL=postgres://…/city npm run admin -- demo:city --schools 150 --students-per-school 2000\n  BENCH_DATABASE_URL=postgres://…/city npm run bench\n',
    );
    process.exit(64);
  }
  const oneUrl = process.env.BENCH_ONE_SCHOOL_DATABASE_URL;
  const started = Date.now();
  build();
  out(
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GB; ${CONNECTIONS} connections, ${SECONDS} s per row\n`,
  );

  // 1. Baseline, in its own process.
  const baseline = await startBaseline();
  const base = await load(`${baseline.base}/`, { seconds: SECONDS, connections: CONNECTIONS });
  await baseline.stop();
  out(
    `baseline (Express hello-world, own process): ${base.rps.toFixed(0)} req/s, p50 ${base.p50} ms, p99 ${base.p99} ms`,
  );

  const load1 = loadavg()[0]!;

  // 2–3. The pages on the city, on one school, and with two processes.
  const rows: PageRow[] = [];
  const rss = SKIP.has('pages') ? { now: 0, peak: 0 } : await pagesOn(cityUrl, 'city', rows, 'city');
  if (oneUrl && !SKIP.has('one-school') && !SKIP.has('pages')) await pagesOn(oneUrl, 'one school', rows, 'one');
  const config = await readFile(`${ROOT}/src/config.ts`, 'utf8');
  let clusterNote = '';
  if (SKIP.has('cluster') || SKIP.has('pages')) clusterNote = 'WEB_CONCURRENCY=2: skipped (BENCH_SKIP)';
  else if (!config.includes('WEB_CONCURRENCY'))
    clusterNote = 'WEB_CONCURRENCY=2: not measured — this portal has no WEB_CONCURRENCY setting yet';
  else await pagesOn(cityUrl, 'city, WEB_CONCURRENCY=2', rows, 'cluster', { WEB_CONCURRENCY: '2' });

  // The baseline once more after the pages: on a shared machine the two differ, and the ratios are only as good
  // as that difference (printed with the load averages at both ends).
  const baselineAgain = await startBaseline();
  const baseAfter = await load(`${baselineAgain.base}/`, { seconds: SECONDS, connections: CONNECTIONS });
  await baselineAgain.stop();
  const load2 = loadavg()[0]!;
  out(
    `baseline again after the pages: ${baseAfter.rps.toFixed(0)} req/s (before: ${base.rps.toFixed(0)}); load average ${load1.toFixed(1)} → ${load2.toFixed(1)}`,
  );

  // 4. Reader API, dispatcher, morning peak (on the city).
  const readers: ReaderResult[] = [];
  const dispatch: DispatchResult[] = [];
  let morning: Awaited<ReturnType<typeof peak>> | undefined;
  const db = connect(cityUrl, { dbPoolMax: 2, dbStatementTimeoutMs: 120_000 });
  try {
    const s = await scene(db.knex);
    if (!SKIP.has('readers')) {
      const portal = await startPortal(cityUrl);
      try {
        for (const n of [1, 8, 32]) {
          readers.push(await readerRun(db.knex, portal.base, n, SECONDS));
          const r = readers.at(-1)!;
          out(
            `reader API, ${n} readers: ${r.perSecond.toFixed(0)} swipes/s (${r.accepted}/${r.swipes} accepted, batch p99 ${ms(r.batchP99)} ms, ${r.smsQueued} SMS queued; load average ${loadavg()[0]!.toFixed(1)})`,
          );
        }
      } finally {
        await portal.stop();
      }
    }
    if (!SKIP.has('dispatcher')) {
      for (const n of [1, 2]) {
        const procs: Proc[] = [];
        try {
          for (let i = 0; i < n; i++)
            procs.push(await startPortal(cityUrl, { SMS_DISPATCHER: 'true', SMS_DISPATCH_INTERVAL_MS: '200' }));
          dispatch.push(await drain(db.knex, s.schoolId, SMS, n, 900));
          const d = dispatch.at(-1)!;
          out(
            `dispatcher, ${n} process(es): ${d.perSecond.toFixed(0)} SMS/s (${d.messages} in ${d.seconds.toFixed(1)} s, ${d.claimedTwice} claimed twice, ${d.left} left)`,
          );
        } finally {
          await Promise.all(procs.map((p) => p.stop()));
        }
      }
    }
    if (!SKIP.has('peak')) {
      const portal = await startPortal(cityUrl, { SMS_DISPATCHER: 'true', SMS_DISPATCH_INTERVAL_MS: '500' });
      try {
        morning = await peak(db.knex, portal.base, PEAK_RATE, PEAK_SECONDS);
        out(
          `morning peak: ${morning.perSecond.toFixed(0)} swipes/s for ${PEAK_SECONDS} s (${morning.accepted}/${morning.swipes} accepted${morning.ranOut ? ', ran out of students' : ''}), swipe → provider p99 ${(morning.delayP99 / 1000).toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`,
        );
      } finally {
        await portal.stop();
      }
    }
  } finally {
    await db.knex.destroy();
  }

  // 5. The roster import and the embedded default's memory.
  let importRun: ImportResult | undefined;
  const notes: string[] = [];
  if (!SKIP.has('import')) {
    try {
      importRun = await importRow(cityUrl);
      out(
        `roster import, ${importRun.students} students: ${importRun.first.toFixed(1)} s (again, nothing to change: ${importRun.again.toFixed(1)} s), ${importRun.stored} stored`,
      );
    } catch (e) {
      notes.push(`roster import not measured: ${(e as Error).message}`);
    }
  }
  let embedded: { rssPeak: number; rps: number } | undefined;
  if (!SKIP.has('embedded')) {
    try {
      embedded = await embeddedRow(SECONDS, CONNECTIONS);
      out(`embedded default: RSS peak ${embedded.rssPeak} MB under ${embedded.rps.toFixed(0)} req/s on /login`);
    } catch (e) {
      notes.push(`embedded default not measured: ${(e as Error).message}`);
    }
  }

  // The tables.
  out(
    `\n### Pages (${CONNECTIONS} connections, ${SECONDS} s each; baseline ${base.rps.toFixed(0)} req/s, ${baseAfter.rps.toFixed(0)} after the pages; load average ${load1.toFixed(1)} → ${load2.toFixed(1)} on ${cpus().length} CPUs)\n`,
  );
  const growth = rows.some((r) => r.one);
  const cluster = rows.some((r) => r.cluster);
  out(
    `| page | req/s | p50 ms | p99 ms | errors / non-2xx | ÷ baseline |${growth ? ' one school: req/s · p50 | city ÷ one-school p50 |' : ''}${cluster ? ' WEB_CONCURRENCY=2 req/s · p99 |' : ''}`,
  );
  out(`|---|---:|---:|---:|---:|---:|${growth ? '---:|---:|' : ''}${cluster ? '---:|' : ''}`);
  out(
    `| baseline: Express hello-world (own process) | ${base.rps.toFixed(0)} | ${base.p50} | ${base.p99} | ${base.errors} / ${base.non2xx} | 100 % |${growth ? ' | |' : ''}${cluster ? ' |' : ''}`,
  );
  for (const r of rows) {
    const c = r.city;
    const cells = c
      ? `${c.rps.toFixed(0)} | ${c.p50} | ${c.p99} | ${c.errors} / ${c.non2xx} | ${((100 * c.rps) / base.rps).toFixed(1)} %`
      : `— | — | — | — | —`;
    const g = growth
      ? r.one
        ? ` ${r.one.rps.toFixed(0)} · ${r.one.p50} | ${c ? `${(c.p50 / Math.max(r.one.p50, 0.5)).toFixed(1)}×` : '—'} |`
        : ' — | — |'
      : '';
    const w = cluster ? (r.cluster ? ` ${r.cluster.rps.toFixed(0)} · ${r.cluster.p99} |` : ' — |') : '';
    out(`| ${r.name} | ${cells} |${g}${w}`);
  }
  out(
    `\nPortal RSS (city, one process): ${rss.now} MB after the pages, peak ${rss.peak} MB.${clusterNote ? ` ${clusterNote}.` : ''}`,
  );
  for (const r of rows.filter((x) => x.note)) out(`Note: ${r.name}: ${r.note}`);

  if (readers.length + dispatch.length > 0 || morning || importRun || embedded) {
    out('\n### Reader API, dispatcher, morning peak, import, embedded\n');
    out('| what | rate | detail |');
    out('|---|---:|---|');
    for (const r of readers)
      out(
        `| reader API, ${r.readers} reader${r.readers > 1 ? 's' : ''} × 500-swipe batches | ${r.perSecond.toFixed(0)} swipes/s | ${r.accepted} of ${r.swipes} accepted, batch p50 ${ms(r.batchP50)} ms / p99 ${ms(r.batchP99)} ms, ${r.failedBatches} batches refused, ${r.smsQueued} SMS queued |`,
      );
    for (const d of dispatch)
      out(
        `| dispatcher, ${d.processes} process${d.processes > 1 ? 'es' : ''} (log provider) | ${d.perSecond.toFixed(0)} SMS/s | ${d.messages} sent in ${d.seconds.toFixed(1)} s, ${d.claimedTwice} claimed twice, ${d.left} left |`,
      );
    if (morning)
      out(
        `| morning peak (${PEAK_RATE}/s asked, ${PEAK_SECONDS} s) | ${morning.perSecond.toFixed(0)} swipes/s | ${morning.accepted} of ${morning.swipes} swipes accepted from ${morning.schools} schools${morning.ranOut ? ' (ran out of students)' : ''}; ${morning.sms} arrival SMS; swipe → provider p50 ${(morning.delayP50 / 1000).toFixed(1)} s, **p99 ${(morning.delayP99 / 1000).toFixed(1)} s**; ${morning.notSent} not sent after 120 s; ${morning.failedBatches} batches refused |`,
      );
    if (importRun)
      out(
        `| roster import (\`npm run admin -- import\`, own process, start-up included) | ${importRun.first.toFixed(1)} s | ${importRun.students} new students, classes, guardians and parent accounts; the same file again ${importRun.again.toFixed(1)} s; ${importRun.stored} stored |`,
      );
    if (embedded)
      out(
        `| embedded default (no DATABASE_URL), RSS | ${embedded.rssPeak} MB peak | /login at ${CONNECTIONS} connections for ${SECONDS} s: ${embedded.rps.toFixed(0)} req/s |`,
      );
  }

  out('\n### Targets\n');
  out('| target | this run | |');
  out('|---|---|---|');
  for (const v of verdicts({
    baselineRps: base.rps,
    pages: rows,
    readers,
    dispatch,
    peak: morning,
    peakRate: PEAK_RATE,
    peakSeconds: PEAK_SECONDS,
    importRun,
    embedded,
  }))
    out(`| ${v.target} | ${v.measured} | ${v.verdict === 'met' ? 'met' : `**${v.verdict}**`} |`);
  for (const n of notes) out(`\nNote: ${n}`);
  out(`\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
