/**
 * `npm run bench` — a short load test of the real pages, in one process, on loopback only:
 * an embedded PostgreSQL in memory with the reference and demo data, the app with a fixed APP_NOW, views cached
 * as in production, logs off. autocannon drives each URL in turn (BENCH_SECONDS each, default 5, with
 * BENCH_CONNECTIONS connections, default 10) and prints requests/s and latency p50/p99 per URL.
 * `/healthz` (no database, no session) is the baseline the pages compare with.
 * The load generator shares the process (and the embedded database shares its event loop), so read the
 * figures relative to each other. BENCH_DATABASE_URL=postgres://… runs the same pages on a PostgreSQL server
 * instead; that database is migrated and filled with the demo data: use a disposable one.
 */
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { createApp } from '../src/app.js';
import { FixedClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { connect } from '../src/db/connection.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrateLatest } from '../src/db/migrate.js';
import { seedDemo, seedReference } from '../src/db/seed.js';
import { createLogger } from '../src/logger.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const APP_NOW = process.env.APP_NOW ?? '2026-11-24T09:30:00+08:00';
const CAPTCHA = 'BENCH1';

interface Row {
  name: string;
  path: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Sign in as a demo parent through the real form; returns the session cookie. */
async function signIn(base: string, schoolId: number, login: string): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = (pair ?? '').split('=');
      if (k && v !== undefined) jar.set(k, v);
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const page = await fetch(`${base}/login`, { redirect: 'manual' });
  keep(page);
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!token) throw new Error('no CSRF token on /login');
  keep(await fetch(`${base}/login/captcha`, { headers: { cookie: cookie() } }));
  const body = new URLSearchParams({
    _csrf: token,
    intent: 'login',
    role: 'parent',
    schoolId: String(schoolId),
    account: login,
    password: 'demo-1234',
    captcha: CAPTCHA,
  });
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  keep(res);
  if (res.status !== 303) throw new Error(`sign-in as ${login} failed: ${res.status}`);
  return cookie();
}

async function run(name: string, url: string, cookie?: string): Promise<Row> {
  // One request first, so that a broken page fails loudly rather than benching an error page.
  const probe = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  if (probe.status !== 200) throw new Error(`${name}: GET ${url} answered ${probe.status}`);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: cookie ? { cookie } : {},
  });
  return {
    name,
    path: new URL(url).pathname,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main(): Promise<void> {
  out(`Starting the ${process.env.BENCH_DATABASE_URL ? 'PostgreSQL server at BENCH_DATABASE_URL' : 'embedded database'} and loading the demo data (APP_NOW=${APP_NOW}) …`);
  const serverUrl = process.env.BENCH_DATABASE_URL;
  const embedded = serverUrl ? undefined : await startEmbeddedPostgres('memory://');
  const db = connect(serverUrl ?? embedded!.url, { dbPoolMax: 10, dbStatementTimeoutMs: 15_000 });
  const clock = new FixedClock(APP_NOW);
  await migrateLatest(db.knex);
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    CAPTCHA_FIXED_TEXT: CAPTCHA,
    APP_NOW,
    SMS_DISPATCHER: 'false',
    HOST: '127.0.0.1',
  });
  await seedReference(db.knex, clock);
  await seedDemo(db.knex, clock, { publicUrl: config.publicUrl });

  const app = createApp({ config, db, clock, logger: createLogger('silent') });
  app.set('view cache', true); // as in production
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const school = await db.knex('schools').where({ name: '市立忠孝國小', level: 'elementary' }).first('id');
  const parentCookie = await signIn(base, school.id as number, '11301001');

  out(`Each URL: ${SECONDS} s, ${CONNECTIONS} connections, loopback, Node ${process.version}, ${embedded ? 'embedded PostgreSQL' : 'PostgreSQL server'}.\n`);
  const rows: Row[] = [];
  const targets: [string, string, string | undefined][] = [
    ['baseline (no database)', '/healthz', undefined],
    ['login page (anonymous)', '/login', undefined],
    ['parent home 首頁', '/', parentCookie],
    ['parent 訂購服務', '/sms/subscriptions', parentCookie],
  ];
  for (const [name, path, cookie] of targets) {
    try {
      rows.push(await run(name, `${base}${path}`, cookie));
    } catch (err) {
      out(`skipped ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  out('| page | path | requests/s | p50 ms | p99 ms | non-2xx | errors |');
  out('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) out(`| ${r.name} | \`${r.path}\` | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`);

  // autocannon drops its sockets at the end; let the requests still running finish before the pools close.
  server.close();
  server.closeAllConnections();
  const pool = (db.knex.client as { pool?: { numUsed(): number; numPendingAcquires(): number } }).pool;
  for (let quiet = 0, i = 0; quiet < 5 && i < 200; i++) {
    quiet = pool && pool.numUsed() + pool.numPendingAcquires() > 0 ? 0 : quiet + 1;
    await new Promise((r) => setTimeout(r, 100));
  }
  await app.shutdown();
  await db.knex.destroy();
  await embedded?.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
