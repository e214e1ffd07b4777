/**
 * gracefulShutdown() on a real HTTP server and real keep-alive sockets (no database: its steps are recorded):
 * what is in flight is answered with `Connection: close`, every connection closes as soon as it is answered or
 * idle, the background work, the app and the database are closed in that order, and the process exits 0 — or 1
 * when that takes longer than its deadline.
 */
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { gracefulShutdown } from '../../src/shutdown.js';

interface Harness {
  server: http.Server;
  port: number;
  stop: (signal: string) => Promise<void>;
  steps: string[];
  exited: Promise<number>;
  log: () => string;
  /** Let the held request (`GET /slow`) answer. */
  release: () => void;
  /** Resolves once the server has received a request for `path`. */
  received: (path: string) => Promise<void>;
}

const tick = () => new Promise((r) => setTimeout(r, 10));

const open: http.Server[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.closeAllConnections();
});

/** A server whose `/slow` answers only when released and every other path at once (synchronously). */
async function harness(timeoutMs = 5000): Promise<Harness> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/slow') void gate.then(() => res.end('slow done'));
    else res.end('ok');
  });
  open.push(server);
  server.keepAliveTimeout = 65_000;
  let lines = '';
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines += chunk.toString();
        done();
      },
    }),
  );
  const steps: string[] = [];
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const stop = gracefulShutdown({
    server,
    logger,
    timeoutMs,
    jobs: { stop: async () => void steps.push('jobs stopped') },
    app: { shutdown: async () => void steps.push('app pools closed') },
    db: { close: async () => void steps.push('database closed') },
    exit: (code) => {
      steps.push(`exit ${code}`);
      exit(code);
    },
  });
  server.on('close', () => steps.push('http closed'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    stop,
    steps,
    exited,
    log: () => lines,
    release,
    received: async (path) => {
      while (!seen.includes(path)) await tick();
    },
  };
}

/** A raw keep-alive connection: write requests, read everything the server sends until it closes the socket. */
function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    get: (path: string) => socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`),
    received: () => received,
    closed,
  };
}

describe('gracefulShutdown', () => {
  it('answers the keep-alive request in flight with Connection: close, closes its socket, then exits 0', async () => {
    const h = await harness();
    const client = rawClient(h.port);
    client.get('/slow');
    await h.received('/slow');
    const stopping = h.stop('SIGTERM');
    h.release();
    await client.closed; // the server closed the connection after its answer
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(client.received()).toContain('slow done');
    await stopping;
    expect(await h.exited).toBe(0);
    expect(h.steps.slice(-3)).toEqual(['app pools closed', 'database closed', 'exit 0']);
    expect(h.steps).toContain('http closed');
    expect(h.steps).toContain('jobs stopped');
    expect(h.log()).toContain('"msg":"stopped"');
  });

  it('closes an idle keep-alive connection at once, without waiting for the keep-alive timeout', async () => {
    const h = await harness();
    const client = rawClient(h.port);
    client.get('/fast');
    while (!client.received().includes('ok')) await tick();
    await h.stop('SIGTERM');
    await client.closed;
    expect(await h.exited).toBe(0);
  });

  it('survives a request read from a busy connection after the signal, on a route that answers at once, and exits 0', async () => {
    const h = await harness();
    const client = rawClient(h.port);
    client.get('/slow');
    await h.received('/slow');
    const stopping = h.stop('SIGTERM');
    // A pipelined request on the same connection, read while draining; its route answers synchronously.
    client.get('/fast');
    await h.received('/fast');
    h.release();
    await client.closed;
    await stopping;
    expect(await h.exited).toBe(0);
    expect(client.received()).toContain('slow done');
    expect(client.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(h.log()).not.toContain('shutdown failed');
  });

  it('exits 1 with a log line when the drain takes longer than its deadline', async () => {
    const h = await harness(200);
    const client = rawClient(h.port);
    client.get('/slow'); // never released
    await h.received('/slow');
    void h.stop('SIGTERM');
    expect(await h.exited).toBe(1);
    expect(h.log()).toContain('shutdown took too long; exiting');
    h.release();
  });
});
