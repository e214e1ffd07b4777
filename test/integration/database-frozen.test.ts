/**
 * A database that freezes — its connections stay open and nothing comes back, as a server stopped with SIGSTOP or
 * behind a dead network path — between the app and the test database (either one): the app's own client-side
 * deadlines answer pages with 503 and /readyz with 503 within 3 s, for connections the pool already had and for new
 * ones alike, and once the database answers again the pages answer 200 by themselves within 5 s.
 * (test/reliability/database-outage.test.ts does the same with a real PostgreSQL cluster frozen under load.)
 */
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { FixedClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { connect, type Database } from '../../src/db/connection.js';
import { createLogger } from '../../src/logger.js';
import { CAPTCHA, DEFAULT_NOW, signedIn } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { testDb } from '../support/db.js';
import { closeTestDb, resetDb } from '../support/db.js';

/** A TCP relay to the database that can stop passing bytes (held, in order) and pass them on again. */
async function freezableRelay(target: { host: string; port: number }) {
  let frozen = false;
  let held: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const relay = (from: net.Socket, to: net.Socket) =>
      from.on('data', (d: Buffer) => {
        const pass = () => to.writable && to.write(d);
        if (frozen) held.push(pass);
        else pass();
      });
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      const pending = held;
      held = [];
      for (const pass of pending) pass();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let relay: Awaited<ReturnType<typeof freezableRelay>>;
let db: Database;
let app: App;

beforeAll(async () => {
  await resetDb();
  const target = new URL(inject('databaseUrl'));
  relay = await freezableRelay({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  // Short deadlines, as the reliability suite uses, so that a pool wait followed by a query stays inside 3 s.
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url.toString(),
    DB_POOL_MAX: '4',
    SESSION_POOL_MAX: '2',
    DB_STATEMENT_TIMEOUT_MS: '1000',
    DB_QUERY_TIMEOUT_MS: '1200',
    DB_CONNECT_TIMEOUT_MS: '1000',
    DB_ACQUIRE_TIMEOUT_MS: '1000',
    DB_READY_TIMEOUT_MS: '1000',
  });
  db = connect(url.toString(), config);
  app = createApp({ config, db, clock: new FixedClock(DEFAULT_NOW), logger: createLogger('silent') });
});

afterAll(async () => {
  relay.thaw();
  await app.shutdown();
  await db.close();
  await relay.close();
  await closeTestDb();
});

/** A request with how long it took to be answered. */
async function timed(path: string) {
  const start = Date.now();
  const res = await request(app).get(path);
  return { path, status: res.status, ms: Date.now() - start, text: res.text };
}

describe('a frozen database', () => {
  it('answers 503 within 3 s while it is frozen, and 200 again within 5 s of its return, by itself', async () => {
    // Connections open and in the pool, as in a portal that has been serving.
    expect((await timed('/login')).status).toBe(200);
    expect((await timed('/readyz')).status).toBe(200);

    relay.freeze();
    // One after another (the pool's connections, each then stuck behind its unanswered query) and several at
    // once (more than the pool has: the others wait for a connection, or open new ones that never answer).
    const during = [await timed('/login'), await timed('/readyz'), await timed('/login')];
    during.push(...(await Promise.all(['/login', '/login', '/readyz', '/login', '/login', '/login'].map(timed))));
    for (const r of during) {
      expect(r.status, JSON.stringify({ ...r, text: undefined })).toBe(503);
      expect(r.ms, r.path).toBeLessThan(3000);
    }
    expect(during.find((r) => r.path === '/login')!.text).toContain('系統暫時無法連線資料庫，請稍後再試。');

    relay.thaw();
    const back = Date.now();
    let first: Awaited<ReturnType<typeof timed>> | undefined;
    while (Date.now() - back < 5000) {
      const r = await timed('/login');
      if (r.status === 200) {
        first = r;
        break;
      }
      expect(r.status).toBe(503);
    }
    expect(first, 'a 200 within 5 s of the return').toBeDefined();
    // And from then on every page and the probe answer as before.
    for (const p of ['/login', '/readyz', '/login']) expect((await timed(p)).status, p).toBe(200);
  });
});

describe('a frozen database, with the default deadlines (15 s for a statement of the pages)', () => {
  it('answers a signed-in page 503 within seconds, not 15: every request reads its session first, on a pool whose deadlines are 3 s (server) and 4 s (client)', async () => {
    const w = await createSchoolWorld(testDb().knex);
    const target = new URL(inject('databaseUrl'));
    const relay2 = await freezableRelay({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL(target);
    url.hostname = '127.0.0.1';
    url.port = String(relay2.port);
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url.toString(), CAPTCHA_FIXED_TEXT: CAPTCHA });
    expect(config.dbStatementTimeoutMs).toBe(15_000);
    const db2 = connect(url.toString(), config);
    const app2 = createApp({ config, db: db2, clock: new FixedClock(DEFAULT_NOW), logger: createLogger('silent') });
    try {
      const parent = await signedIn(app2, { schoolId: w.schoolId, login: w.parent.login });
      expect((await parent.get('/')).status).toBe(200);
      relay2.freeze();
      const started = Date.now();
      const during = await Promise.all([parent.get('/'), parent.get('/account'), parent.get('/')]);
      for (const r of during) expect(r.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(6000); // the deadlines are 3–4 s; the pages' own would be 16 s
      relay2.thaw();
      const back = Date.now();
      let ok = false;
      while (!ok && Date.now() - back < 5000) ok = (await parent.get('/')).status === 200;
      expect(ok, 'a 200 within 5 s of the return').toBe(true);
    } finally {
      relay2.thaw();
      await app2.shutdown();
      await db2.close();
      await relay2.close();
    }
  });
});
