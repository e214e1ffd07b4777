/** SIGTERM on a busy portal with keep-alive clients: every request in flight is answered, and the process exits 0. */
import http from 'node:http';
import { describe, expect, inject, it } from 'vitest';
import { startPortal } from './support.js';

function get(agent: http.Agent, url: string, onSent?: () => void) {
  return send(agent, url, { onSent });
}

/** One request on a keep-alive agent (as a browser keeps its connection). */
function send(
  agent: http.Agent,
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; onSent?: (() => void) | undefined } = {},
) {
  return new Promise<{
    status: number;
    connection: string | undefined;
    body: string;
    headers: http.IncomingHttpHeaders;
  }>((resolve, reject) => {
    const req = http.request(url, { agent, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, headers: res.headers }),
      );
    });
    req.on('error', reject);
    req.on('finish', () => o.onSent?.());
    req.end(o.body);
  });
}

describe('SIGTERM with keep-alive clients', () => {
  it('answers 50 keep-alive requests in flight, closes each connection after its answer, and exits 0', async () => {
    const portal = await startPortal({
      DATABASE_URL: inject('databaseUrl'),
      SHUTDOWN_TIMEOUT_MS: '10000',
      SMS_DISPATCHER: 'true',
      // /login reads its lists from the database each time (not the copy in memory), so that the 50 requests are
      // still in flight when the signal arrives rather than all answered before it.
      REFERENCE_CACHE_SECONDS: '0',
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    // 50 keep-alive connections, open and idle (as a browser or a load balancer keeps them).
    const warm = await Promise.all(Array.from({ length: 50 }, () => get(agent, `${portal.base}/login`)));
    expect(warm.every((r) => r.status === 200)).toBe(true);

    // 50 requests on them; SIGTERM as soon as every one has been sent.
    let sent = 0;
    let signalledAt = 0;
    const inFlight = Array.from({ length: 50 }, () =>
      get(agent, `${portal.base}/login`, () => {
        if (++sent === 50) {
          signalledAt = Date.now();
          portal.child.kill('SIGTERM');
        }
      }).catch((err: Error) => ({ status: 0, connection: undefined, body: err.message })),
    );
    const answers = await Promise.all(inFlight);
    const exit = await portal.exited;
    const took = Date.now() - signalledAt;

    expect(answers.filter((a) => a.status !== 200).map((a) => a.body)).toEqual([]);
    expect(answers.every((a) => a.body.includes('系統登入'))).toBe(true);
    // Whatever was answered after the signal told its client to close the connection.
    expect(answers.some((a) => a.connection === 'close')).toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(10_000);
    const log = portal.output();
    expect(log).toContain('"msg":"sms dispatcher stopped"');
    expect(log).toContain('"msg":"stopped"');
    expect(log).not.toContain('shutdown took too long');
    agent.destroy();
  });

  it('answers a keep-alive sign-in in flight when SIGTERM comes 50 ms after it, closes its connection, and exits 0 long before the keep-alive timeout', async () => {
    const portal = await startPortal({
      DATABASE_URL: inject('databaseUrl'),
      KEEP_ALIVE_TIMEOUT_MS: '65000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      CAPTCHA_FIXED_TEXT: 'DEMO',
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // A browser on one keep-alive connection: the form, its captcha, then a sign-in (a password check and the
    // failure's delay) that is still in flight when the signal comes, on a connection that would otherwise stay
    // open for 65 s.
    const page = await get(agent, `${portal.base}/login`);
    const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    expect((await send(agent, `${portal.base}/login/captcha`, { headers: { cookie } })).status).toBe(200);
    const form = new URLSearchParams({
      _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!,
      intent: 'login',
      role: 'parent',
      schoolId: '1',
      // (an account no other test of the suite has locked: the database is shared by the files)
      account: 'nobody-at-sigterm',
      password: 'not-the-password',
      captcha: 'DEMO',
    }).toString();
    let signalledAt = 0;
    const answer = await send(agent, `${portal.base}/login`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: portal.base },
      body: form,
      onSent: () =>
        setTimeout(() => {
          signalledAt = Date.now();
          portal.child.kill('SIGTERM');
        }, 50),
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toContain('帳號或密碼錯誤');
    expect(answer.connection).toBe('close');
    const exit = await portal.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(portal.output()).not.toContain('shutdown took too long');
    agent.destroy();
  });
});
