/** SIGTERM on a busy portal with keep-alive clients: every request in flight is answered, and the process exits 0. */
import http from 'node:http';
import { describe, expect, inject, it } from 'vitest';
import { startPortal } from './support.js';

function get(agent: http.Agent, url: string, onSent?: () => void) {
  return new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.on('finish', () => onSent?.());
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

  it('closes an idle keep-alive connection at once and exits 0 long before the keep-alive timeout', async () => {
    const portal = await startPortal({
      DATABASE_URL: inject('databaseUrl'),
      KEEP_ALIVE_TIMEOUT_MS: '65000',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // One request in flight when the signal comes, on a connection that would otherwise stay open for 65 s.
    const pending = get(agent, `${portal.base}/login`, () => portal.child.kill('SIGTERM'));
    const answer = await pending;
    expect(answer.status).toBe(200);
    const started = Date.now();
    const exit = await portal.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    agent.destroy();
  });
});
