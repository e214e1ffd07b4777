import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connection.js';
import { freePort, runEntryForCode } from '../support/processes.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-server-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** `tsx src/server.ts` as `npm run dev` would run it, with only the given settings. */
function startPortal(env: Record<string, string>) {
  return runEntryForCode('src/server.ts', env);
}

/** Its exit, or a failure with its output if it has not exited in `ms` (a hang says where it hung). */
async function exitOf(portal: ReturnType<typeof startPortal>, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit after ${ms / 1000} s:\n${portal.output()}`)), ms);
  });
  try {
    return await Promise.race([portal.exited, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** One request on a keep-alive agent (as a browser keeps its connection), with its status, headers and body. */
function send(
  agent: http.Agent,
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; onSent?: () => void } = {},
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(url, { agent, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer to ${url} in 60 s`)));
    req.on('error', reject);
    req.on('finish', () => o.onSent?.());
    req.end(o.body);
  });
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
        const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) });
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
    'starts on a fresh DATA_DIR, serves the login page, and on SIGTERM with a keep-alive sign-in in flight answers it and exits 0',
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
          CAPTCHA_FIXED_TEXT: 'DEMO',
        });
        if (await waitReady(base, candidate)) portal = candidate;
      }
      if (!portal) throw new Error('no free port after 3 attempts');

      // A browser: one keep-alive connection, its cookie and the form's token.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const login = await send(agent, `${base}/login`).catch((err: unknown) => {
        throw new Error(`GET /login failed (${String(err)}); the portal's output:\n${portal.output()}`);
      });
      expect(login.status).toBe(200);
      expect(login.text).toContain('系統登入');
      // The demo data was loaded on the fresh database (its school is in the login list of 中正區 / 國小).
      expect(portal.output()).toContain('demo data loaded');
      const cookie = (login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
      expect((await send(agent, `${base}/login/captcha`, { headers: { cookie } })).status).toBe(200);
      const form = new URLSearchParams({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(login.text)![1]!,
        intent: 'login',
        role: 'parent',
        schoolId: '1',
        account: '11301001',
        password: 'not-the-password',
        captcha: 'DEMO',
      }).toString();

      // A sign-in (a password check, then the failure's delay) in flight when SIGTERM comes 50 ms after it is sent:
      // it is answered, its connection closed after the answer, and the process exits 0 without waiting for the
      // keep-alive timeout.
      const signIn = send(agent, `${base}/login`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        onSent: () => setTimeout(() => portal.child.kill('SIGTERM'), 50),
      });
      const answer = await signIn;
      expect(answer.status).toBe(422);
      expect(answer.text).toContain('帳號或密碼錯誤');
      expect(answer.headers.connection).toBe('close');
      expect(await exitOf(portal, 60_000)).toBe(0);
      expect(portal.output()).toContain('"msg":"stopped"');
      expect(portal.output()).not.toContain('shutdown took too long');
      agent.destroy();
    },
  );

  it(
    'stops before serving on SIGTERM during its start-up: exits 0, and its data folder is free and opens clean',
    { timeout: 120_000 },
    async () => {
      const dir = path.join(dataDir, 'stopped-early');
      const portal = startPortal({
        NODE_ENV: 'development',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATA_DIR: dir,
        LOG_LEVEL: 'info',
        SMS_DISPATCHER: 'false',
      });
      // The signal comes as the migrations start.
      let gone = false;
      void portal.exited.then(() => (gone = true));
      while (!portal.output().includes('"msg":"database open"')) {
        if (gone) throw new Error(`the portal exited before it opened its database:\n${portal.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      portal.child.kill('SIGTERM');
      expect(await exitOf(portal, 60_000), portal.output()).toBe(0);
      expect(portal.output()).toContain('"msg":"stopping before serving"');
      expect(portal.output()).not.toContain('portal listening');
      expect(portal.output()).not.toContain('could not start');

      const db = await openDatabase({
        dataDir: dir,
        databaseUrl: undefined,
        dbPoolMax: 2,
        dbStatementTimeoutMs: 30_000,
      });
      try {
        expect((await db.knex.raw('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
      } finally {
        await db.close();
      }
    },
  );

  it('refuses to start with a bad PORT, naming it, with exit code 78', { timeout: 60_000 }, async () => {
    const portal = startPortal({ NODE_ENV: 'development', PORT: 'eighty', DATA_DIR: dataDir });
    expect(await portal.exited).toBe(78);
    expect(portal.output()).toContain('PORT: must be a whole number');
  });
});
