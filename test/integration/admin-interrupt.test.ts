/**
 * Ctrl-C (SIGINT) of an admin script in the middle of its transaction: the script exits 130, nothing of the
 * interrupted work is committed, and the database is closed properly — on the embedded database the data folder
 * is free at once and opens clean; on a server no transaction is left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/connection.js';
import { seedReference } from '../../src/db/seed.js';
import type { Knex } from 'knex';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { DEFAULT_NOW } from '../support/app.js';
import { runEntry, type Proc } from '../support/processes.js';

const root = mkdtempSync(path.join(tmpdir(), 'portal-interrupt-'));
afterAll(async () => {
  await closeTestDb();
  rmSync(root, { recursive: true, force: true });
});

/** demo:city builds its whole city in one transaction and prints a line after each step. */
const CITY = ['demo:city', '--schools', '2', '--students-per-school', '300'];

/** Wait for the first step's line (the transaction is open and has written rows), then press Ctrl-C. */
async function interruptMidTransaction(p: Proc): Promise<void> {
  let gone = false;
  void p.exited.then(() => (gone = true));
  while (!/班級 classes\s+\d+ 筆/.test(p.output())) {
    if (gone) throw new Error(`the script ended before its first step:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  p.child.kill('SIGINT');
}

async function cityRows(knex: Knex) {
  const n = async (table: string) => Number(((await knex(table).count({ n: '*' })) as [{ n: string }])[0].n);
  return { classes: await n('classes'), accounts: await n('accounts'), swipes: await n('swipes') };
}

function expectInterrupted(p: Proc, exit: { code: number | null; signal: NodeJS.Signals | null }) {
  expect(exit, p.output()).toEqual({ code: 130, signal: null });
  expect(p.output()).toContain('admin: SIGINT: stopped; unfinished work rolled back, closing the database');
  expect(p.output()).not.toContain('合計'); // the city's closing table: the work did not finish
}

describe('Ctrl-C of an admin script in the middle of its transaction', () => {
  it(
    'on the embedded DATA_DIR: exits 130, commits nothing, and leaves the folder free and clean',
    { timeout: 180_000 },
    async () => {
      const dataDir = path.join(root, 'data');
      const seed = runEntry('scripts/seed.ts', { DATA_DIR: dataDir }, ['--reference-only']);
      expect(await seed.exited, seed.output()).toEqual({ code: 0, signal: null });

      const city = runEntry('scripts/admin.ts', { DATA_DIR: dataDir }, CITY);
      await interruptMidTransaction(city);
      expectInterrupted(city, await city.exited);

      // The next owner gets the folder at once (the lock was released) and finds the database as it was before.
      const db = await openDatabase({ dataDir, databaseUrl: undefined, dbPoolMax: 2, dbStatementTimeoutMs: 30_000 });
      try {
        expect(await cityRows(db.knex)).toEqual({ classes: 0, accounts: 0, swipes: 0 });
        const [{ n }] = (await db.knex('schools').count({ n: '*' })) as [{ n: string }];
        expect(Number(n)).toBeGreaterThan(300);
      } finally {
        await db.close();
      }
    },
  );

  it(
    'on a server (DATABASE_URL): exits 130, commits nothing, and leaves no transaction open',
    { timeout: 120_000 },
    async () => {
      const knex = testDb().knex;
      await resetDb();
      await seedReference(knex, new FixedClock(DEFAULT_NOW));

      const city = runEntry('scripts/admin.ts', { DATABASE_URL: inject('databaseUrl') }, CITY);
      await interruptMidTransaction(city);
      expectInterrupted(city, await city.exited);

      expect(await cityRows(knex)).toEqual({ classes: 0, accounts: 0, swipes: 0 });
      // No transaction of the script is left holding the tables it was writing (the server ended it with the
      // connection): taking them all is granted.
      await knex.transaction((trx) => trx.raw('lock table classes, accounts, swipes in access exclusive mode'));
    },
  );
});
