import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runEntryForCode } from '../support/processes.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-server-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** `tsx src/server.ts` as `npm run dev` would run it, with only the given settings. */
function startPortal(env: Record<string, string>) {
  return runEntryForCode('src/server.ts', env);
}

/**
 * Wait until this child logs that it listens and its /readyz answers 200. Returns false when the port was taken
 * meanwhile (EADDRINUSE: the caller retries on another port); throws on any other early exit.
 */
async function waitReady(base: string, portal: ReturnType<typeof startPortal>): Promise<boolean> {
  let gone = false;
  void portal.exited.then(() => (gone = true));
  const deadline = Date.now() + 120_000; // a cold start migrates and seeds on disk: longer on a busy machine
  while (Date.now() < deadline) {
    if (gone) {
      if (portal.output().includes('EADDRINUSE')) return false;
      throw new Error(`the portal exited before it was ready:\n${portal.output()}`);
    }
    if (portal.output().includes('"msg":"portal listening"')) {
      try {
        const res = await fetch(`${base}/readyz`);
        if (res.status === 200) return true;
      } catch {
        // not answering yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the portal was not ready in 120 s:\n${portal.output()}`);
}

describe('the server process (src/server.ts)', () => {
  it(
    'starts on a fresh DATA_DIR, serves the login page, and stops cleanly on SIGTERM',
    { timeout: 180_000 },
    async () => {
      let base = '';
      let portal: ReturnType<typeof startPortal> | undefined;
      for (let attempt = 0; attempt < 3 && !portal; attempt++) {
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        const candidate = startPortal({
          NODE_ENV: 'development',
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: path.join(dataDir, `fresh-${attempt}`),
          LOG_LEVEL: 'info',
          SMS_DISPATCHER: 'false',
        });
        if (await waitReady(base, candidate)) portal = candidate;
      }
      if (!portal) throw new Error('no free port after 3 attempts');

      const login = await fetch(`${base}/login`).catch((err: unknown) => {
        throw new Error(`GET /login failed (${String(err)}); the portal's output:\n${portal.output()}`);
      });
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('系統登入');
      // The demo data was loaded on the fresh database (its school is in the login list of 中正區 / 國小).
      expect(portal.output()).toContain('demo data loaded');

      portal.child.kill('SIGTERM');
      expect(await portal.exited).toBe(0);
      expect(portal.output()).toContain('"msg":"stopped"');
    },
  );

  it('refuses to start with a bad PORT, naming it, with exit code 78', { timeout: 60_000 }, async () => {
    const portal = startPortal({ NODE_ENV: 'development', PORT: 'eighty', DATA_DIR: dataDir });
    expect(await portal.exited).toBe(78);
    expect(portal.output()).toContain('PORT: must be a whole number');
  });
});
