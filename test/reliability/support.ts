/** Real portal processes for the reliability suite: start, wait until ready, signal, collect the exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** A TypeScript entry point of the project (`src/server.ts`, `scripts/migrate.ts`, …) with only these settings. */
export function run(entry: string, env: Record<string, string>, args: string[] = []): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out };
}

export interface Portal extends Proc {
  port: number;
  base: string;
}

/** Start `src/server.ts` (web only unless SMS_DISPATCHER says otherwise) and wait for its /readyz. */
export async function startPortal(env: Record<string, string>, port?: number): Promise<Portal> {
  const p = port ?? (await freePort());
  const proc = run('src/server.ts', {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(p),
    SEED_DEMO: 'false',
    SMS_DISPATCHER: 'false',
    ...env,
  });
  const base = `http://127.0.0.1:${p}`;
  let gone = false;
  void proc.exited.then(() => (gone = true));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`the portal exited before it was ready:\n${proc.output()}`);
    if (proc.output().includes('"msg":"portal listening"')) {
      try {
        if ((await fetch(`${base}/readyz`)).status === 200) return { ...proc, port: p, base };
      } catch {
        // not yet
      }
    }
    await sleep(100);
  }
  throw new Error(`the portal was not ready in 90 s:\n${proc.output()}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
