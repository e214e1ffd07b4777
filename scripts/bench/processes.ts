/** Child processes of the benchmark: the baseline and the portal, each on its own port, and their memory. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SESSION_SECRET = 'bench-session-secret-not-for-real-use-0123456789';

export interface Proc {
  child: ChildProcess;
  port: number;
  base: string;
  stop(): Promise<void>;
  /** Resident memory now and at its peak (MB), summed over the process and its children (cluster workers). */
  rss(): Promise<{ now: number; peak: number }>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function memOf(pid: number): Promise<{ now: number; peak: number }> {
  let now = 0;
  let peak = 0;
  const pids = [pid];
  try {
    const kids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim();
    if (kids) pids.push(...kids.split(/\s+/).map(Number));
  } catch {
    /* no children file: just the process */
  }
  for (const p of pids) {
    try {
      const status = await readFile(`/proc/${p}/status`, 'utf8');
      now += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      /* gone */
    }
  }
  return { now: Math.round(now), peak: Math.round(peak) };
}

/**
 * Start an entry point with this environment; resolves once `readyPath` answers 200. A `.ts` entry runs under tsx,
 * a `.js` one (the compiled build, as `npm start` runs it) under plain node.
 */
export async function startProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  readyPath = '/',
  fixedPort?: number,
  nodeArgs: string[] = [],
): Promise<Proc> {
  const port = fixedPort ?? (await freePort());
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${base}${readyPath}`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    port,
    base,
    rss: () => memOf(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export const startBaseline = () => startProcess('baseline', 'scripts/bench/hello.ts', { NODE_ENV: 'production' });

/**
 * BENCH_PORTAL_ENV=DB_PREPARED_STATEMENTS=false,DB_POOL_MAX=30: settings given to every portal the benchmark
 * starts (to compare one setting against its default in two runs).
 */
function portalEnv(): Record<string, string> {
  const pairs = (process.env.BENCH_PORTAL_ENV ?? '').split(',').filter(Boolean);
  return Object.fromEntries(
    pairs.map((p) => {
      const i = p.indexOf('=');
      if (i < 1) throw new Error(`BENCH_PORTAL_ENV: ${p} is not NAME=value`);
      return [p.slice(0, i), p.slice(i + 1)];
    }),
  );
}

/** What `npm start` runs: the compiled build (the benchmark runs `npm run build` first). */
export const PORTAL_ENTRY = 'dist/src/cluster.js';

/** `npm run build`, so the benchmark measures the code of this checkout as production runs it. */
export function build(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * The portal in production mode against a PostgreSQL server: views cached, logs at warn. BENCH_PORTAL_NODE_ARGS
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) are given to its node: a CPU profile of the portal under the load.
 */
export async function startPortal(databaseUrl: string, extra: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  return startProcess(
    'portal',
    // The same entry as `npm start` (one process, or WEB_CONCURRENCY workers).
    PORTAL_ENTRY,
    {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      SESSION_SECRET,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      // Required in production; the benchmark never signs in through the Taipei Card.
      OIDC_ISSUER: 'https://taipei-card.bench.invalid',
      OIDC_CLIENT_ID: 'bench',
      OIDC_CLIENT_SECRET: 'bench-client-secret',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      SMS_DISPATCHER: 'false',
      SMS_PROVIDER: 'log',
      ...portalEnv(),
      ...extra,
      PORT: String(port),
    },
    '/login',
    port,
    (process.env.BENCH_PORTAL_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );
}
