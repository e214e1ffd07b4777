/**
 * The real portal, in this test process: a fresh in-memory embedded PostgreSQL, migrated, with the reference
 * data and the demo data of the README demo accounts (seeds/02_demo.ts, relative to the clock's today), the app from createApp()
 * listening on 127.0.0.1, and a FixedClock the test moves between steps.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { createApp, type App } from '../../../src/app.js';
import { FixedClock } from '../../../src/clock.js';
import { loadConfig } from '../../../src/config.js';
import { connect, type Database } from '../../../src/db/connection.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../src/db/embedded.js';
import { migrateLatest } from '../../../src/db/migrate.js';
import { isEmpty, seedDemo, seedReference } from '../../../src/db/seed.js';
import { createLogger } from '../../../src/logger.js';
import { launchChromium } from './browser.js';

export const CAPTCHA_TEXT = 'DEMO7';
/** A Tuesday, 09:00 in Taipei. */
export const START_NOW = '2026-11-24T01:00:00Z';

export interface Portal {
  baseUrl: string;
  clock: FixedClock;
  knex: Knex;
  browser: Browser;
  /** A new browser context (own cookies) on the portal, desktop-sized unless told otherwise. */
  context(o?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function startPortal(o: { now?: string } = {}): Promise<Portal> {
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres('memory://');
  const db: Database = connect(embedded.url, { dbPoolMax: 5, dbStatementTimeoutMs: 30_000 }, embedded);
  const clock = new FixedClock(o.now ?? START_NOW);
  await migrateLatest(db.knex);
  await seedReference(db.knex, clock);
  if (await isEmpty(db.knex)) await seedDemo(db.knex, clock);
  if (!(await db.knex('accounts').where({ role: 'parent', login: '11301001' }).first('id'))) {
    throw new Error('the demo seed did not create the parent account 11301001 (the README demo accounts)');
  }

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    CAPTCHA_FIXED_TEXT: CAPTCHA_TEXT,
    SMS_DISPATCHER: 'false',
  });
  const app: App = createApp({ config, db, clock, logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  server.on('request', app);

  const browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  return {
    baseUrl,
    clock,
    knex: db.knex,
    browser,
    async context(opts: BrowserContextOptions = {}) {
      const ctx = await browser.newContext({
        baseURL: baseUrl,
        locale: 'zh-TW',
        timezoneId: 'Asia/Taipei',
        viewport: { width: 1280, height: 900 },
        ...opts,
      });
      ctx.setDefaultTimeout(20_000);
      ctx.setDefaultNavigationTimeout(30_000);
      contexts.push(ctx);
      return ctx;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.shutdown();
      await db.close();
    },
  };
}
