/**
 * A PostgreSQL server that stops, or freezes (SIGSTOP: connections open but nothing answers), under load: the
 * portal answers 503 within 3 s while it is gone and 200 again within 5 s of its return, without a restart.
 * The suite runs its own throwaway cluster (initdb/pg_ctl, as the postgres user when run as root) on its own port.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sleep, startPortal, type Portal } from './support.js';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const dir = mkdtempSync(path.join(tmpdir(), 'portal-outage-'));
const data = path.join(dir, 'data');
let pgPort = 0;
let portal: Portal;

/** Run a PostgreSQL tool as a non-root user (PostgreSQL refuses root). */
function pgTool(tool: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args]]
    : [path.join(BIN, tool), args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const pgStart = () =>
  pgTool('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'server.log'),
    '-w',
    '-t',
    '30',
    '-o',
    `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
const pgStop = () => pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);

/** The postmaster and its children (every backend), to freeze and thaw together. */
function serverPids(): number[] {
  const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  return [postmaster, ...children];
}

beforeAll(async () => {
  if (process.getuid?.() === 0)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
      Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
    );
  pgTool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  pgPort = await freePort();
  pgStart();
  portal = await startPortal({
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
    // Short deadlines, so that the worst path (a pool wait, then a query) stays well inside 3 s on a busy machine.
    DB_STATEMENT_TIMEOUT_MS: '1000',
    DB_QUERY_TIMEOUT_MS: '1200',
    DB_CONNECT_TIMEOUT_MS: '1000',
    DB_ACQUIRE_TIMEOUT_MS: '1000',
    DB_READY_TIMEOUT_MS: '1000',
    // The login page's lists come from the copy in memory (REFERENCE_CACHE_SECONDS keeps its default), but the
    // session its form's CSRF token lives in is stored before the page is sent: each /login needs the database,
    // and during the outage answers 503 rather than a form whose sign-in would be refused.
  });
}, 120_000);

afterAll(async () => {
  try {
    for (const pid of serverPids()) process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
  if (portal) {
    portal.child.kill('SIGTERM');
    await portal.exited;
  }
  try {
    pgStop();
  } catch {
    // not running
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Sample {
  path: string;
  start: number;
  end: number;
  status: number;
}

/** Keep 8 clients busy on pages that read the database, and the readiness probe, until stopped. */
function load() {
  const samples: Sample[] = [];
  let running = true;
  const client = async (i: number) => {
    while (running) {
      const p = i % 4 === 0 ? '/readyz' : '/login';
      const start = Date.now();
      let status = 0;
      try {
        const res = await fetch(`${portal.base}${p}`, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = -1; // no answer at all
      }
      samples.push({ path: p, start, end: Date.now(), status });
      await sleep(50);
    }
  };
  const clients = Array.from({ length: 8 }, (_, i) => client(i));
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(clients);
    },
  };
}

/** What the outage looked like from the clients, between `down` and `back` (ms timestamps). */
function judge(samples: Sample[], down: number, back: number) {
  const during = samples.filter((s) => s.start >= down && s.start < back - 3000);
  expect(during.length).toBeGreaterThan(4);
  // Nothing hangs: everything asked while the database is gone is answered within 3 s, with 503 (or 200 if it
  // was served before the database went away).
  for (const s of during) {
    expect(s.end - s.start, JSON.stringify(s)).toBeLessThan(3000);
    expect([200, 503], JSON.stringify(s)).toContain(s.status);
  }
  expect(during.some((s) => s.status === 503 && s.end - down < 3000)).toBe(true);
  expect(during.filter((s) => s.status === 503).length).toBeGreaterThan(during.length / 2);
  // It comes back by itself: a 200 within 5 s of the return, and only 200s after that.
  expect(samples.some((s) => s.status === 200 && s.start >= back && s.end - back < 5000)).toBe(true);
  const after = samples.filter((s) => s.start >= back + 5000);
  expect(after.length).toBeGreaterThan(4);
  expect(after.filter((s) => s.status !== 200)).toEqual([]);
}

describe('a PostgreSQL outage under load', () => {
  it('frozen (SIGSTOP): 503 within 3 s, 200 within 5 s of SIGCONT, no restart', async () => {
    const l = load();
    await sleep(1500);
    const pids = serverPids();
    const down = Date.now();
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    await sleep(6500);
    for (const pid of pids) process.kill(pid, 'SIGCONT');
    const back = Date.now();
    await sleep(7000);
    await l.stop();
    judge(l.samples, down, back);
    expect(portal.child.exitCode).toBeNull();
  });

  it('stopped (pg_ctl stop, then start): 503 within 3 s, 200 within 5 s of its return, no restart', async () => {
    const l = load();
    await sleep(1500);
    const down = Date.now();
    pgStop();
    await sleep(6000);
    pgStart();
    const back = Date.now();
    await sleep(7000);
    await l.stop();
    judge(l.samples, down, back);
    expect(portal.child.exitCode).toBeNull();
    expect(portal.output()).not.toContain('The portal could not start');
  });
});
