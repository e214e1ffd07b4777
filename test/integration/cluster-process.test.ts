/**
 * `WEB_CONCURRENCY=2` (src/cluster.ts) on a PostgreSQL server: two portal processes answer on one port, and
 * SIGTERM to the primary stops both and exits 0. On the embedded database it stays one process and says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runEntryForCode } from '../support/processes.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-cluster-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function start(env: Record<string, string>) {
  return runEntryForCode('src/cluster.ts', env);
}

const lines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(
      (l) =>
        JSON.parse(l) as { msg: string; pid: number; workerPid?: number; url?: string; res?: { statusCode: number } },
    );

async function until(cond: () => boolean, what: string, out: () => string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen:\n${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('WEB_CONCURRENCY (src/cluster.ts)', () => {
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'runs 2 portal processes on one port against the server; SIGTERM stops both and exits 0',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const portal = start({
        NODE_ENV: 'development',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: process.env.TEST_DATABASE_URL!,
        DB_POOL_MAX: '3',
        SESSION_POOL_MAX: '1',
        WEB_CONCURRENCY: '2',
        SEED_DEMO: 'false',
        SMS_DISPATCHER: 'false',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '60000', // a loaded CI machine may take a while to close the database
      });
      const listening = () => lines(portal.output()).filter((l) => l.msg === 'portal process listening');
      await until(() => listening().length === 2, 'two processes listening', portal.output);
      const pids = new Set(listening().map((l) => l.workerPid));
      expect(pids.size).toBe(2);
      // Requests on the one port are answered by both processes (each logs the requests it served).
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/login`, { headers: { connection: 'close' } });
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('系統登入');
      }
      await until(
        () => lines(portal.output()).filter((l) => l.msg === 'request completed').length >= 30,
        'request logs',
        portal.output,
        10_000,
      );
      const served = new Set(
        lines(portal.output())
          .filter((l) => l.msg === 'request completed')
          .map((l) => l.pid),
      );
      expect([...served].sort()).toEqual([...pids].sort());

      portal.child.kill('SIGTERM');
      expect(await portal.exited).toBe(0);
      expect(
        lines(portal.output())
          .filter((l) => l.msg === 'stopped')
          .map((l) => l.pid)
          .sort(),
      ).toEqual([...pids].sort());
      expect(portal.output()).toContain('"msg":"all portal processes stopped"');
    },
  );

  it('with the embedded database stays one process and says so in the log', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const portal = start({
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: path.join(dataDir, 'embedded'),
      WEB_CONCURRENCY: '2',
      SEED_DEMO: 'false',
      SMS_DISPATCHER: 'false',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '60000', // a loaded CI machine may take a while to close the database
    });
    await until(() => portal.output().includes('"msg":"portal listening"'), 'listening', portal.output);
    expect(portal.output()).toContain('WEB_CONCURRENCY ignored: the embedded database runs inside one portal process');
    expect(new Set(lines(portal.output()).map((l) => l.pid)).size).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/login`)).status).toBe(200);
    // (How a single process drains and stops on SIGTERM is server.ts's, tested in server-process.test.ts.)
    portal.child.kill('SIGTERM');
    await portal.exited;
  });
});
