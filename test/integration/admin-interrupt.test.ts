/**
 * Ctrl-C (SIGINT) of an admin script in the middle of its transaction: the script exits 130, nothing of the
 * interrupted work is committed, and the database is closed properly — on the embedded database the data folder
 * is free at once and opens clean; on a server no transaction is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
import { PROJECT_ROOT } from '../../src/paths.js';

const root = mkdtempSync(path.join(tmpdir(), 'portal-interrupt-'));
const groups: ChildProcess[] = [];
afterAll(async () => {
  for (const g of groups) if (g.exitCode === null && g.signalCode === null) process.kill(-g.pid!, 'SIGKILL');
  await closeTestDb();
  rmSync(root, { recursive: true, force: true });
});

/** demo:city builds its whole city in one transaction and prints a line after each step. */
const CITY = ['demo:city', '--schools', '2', '--students-per-school', '300'];

/**
 * `npm run admin -- …` as an operator runs it, in a process group of its own like a terminal's foreground job:
 * Ctrl-C reaches npm, the shell and the script at once (the group gets SIGINT).
 */
function npmRunAdmin(env: Record<string, string>, args: string[]): Proc & { ctrlC(): void } {
  const child = spawn('npm', ['run', '--silent', 'admin', '--', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  groups.push(child);
  return { child, exited, output: () => out, ctrlC: () => process.kill(-child.pid!, 'SIGINT') };
}

/** Wait for the first step's line (the transaction is open and has written rows), then press Ctrl-C. */
async function interruptMidTransaction(p: Proc & { ctrlC?: () => void }): Promise<void> {
  let gone = false;
  void p.exited.then(() => (gone = true));
  while (!/班級 classes\s+\d+ 筆/.test(p.output())) {
    if (gone) throw new Error(`the script ended before its first step:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (p.ctrlC) p.ctrlC();
  else p.child.kill('SIGINT');
}

async function cityRows(knex: Knex) {
  const n = async (table: string) => Number(((await knex(table).count({ n: '*' })) as [{ n: string }])[0].n);
  return { classes: await n('classes'), accounts: await n('accounts'), swipes: await n('swipes') };
}

function expectInterrupted(p: Proc, exit: { code: number | null; signal: NodeJS.Signals | null }) {
  // 130: the script's own code (npm, in front of it, ends by the same SIGINT once the script has: a shell shows 130
  // either way).
  expect(
    [
      { code: 130, signal: null },
      { code: null, signal: 'SIGINT' },
    ],
    p.output(),
  ).toContainEqual(exit);
  expect(p.output()).toContain('admin: SIGINT: stopped; unfinished work rolled back, closing the database');
  expect(p.output()).not.toContain('合計'); // the city's closing table: the work did not finish
}

describe('Ctrl-C of an admin script in the middle of its transaction', () => {
  it(
    'on the embedded DATA_DIR, through npm run admin and Ctrl-C to its process group: exits 130, commits nothing, leaves the folder free and clean',
    { timeout: 180_000 },
    async () => {
      const dataDir = path.join(root, 'data');
      const seed = runEntry('scripts/seed.ts', { DATA_DIR: dataDir }, ['--reference-only']);
      expect(await seed.exited, seed.output()).toEqual({ code: 0, signal: null });

      const city = npmRunAdmin({ DATA_DIR: dataDir }, CITY);
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
    'on a server (DATABASE_URL), through npm run admin and Ctrl-C to its process group: exits 130, commits nothing, leaves no transaction open',
    { timeout: 120_000 },
    async () => {
      const knex = testDb().knex;
      await resetDb();
      await seedReference(knex, new FixedClock(DEFAULT_NOW));

      const city = npmRunAdmin({ DATABASE_URL: inject('databaseUrl') }, CITY);
      await interruptMidTransaction(city);
      expectInterrupted(city, await city.exited);

      expect(await cityRows(knex)).toEqual({ classes: 0, accounts: 0, swipes: 0 });
      // No transaction of the script is left holding the tables it was writing (the server ended it with the
      // connection): taking them all is granted.
      await knex.transaction((trx) => trx.raw('lock table classes, accounts, swipes in access exclusive mode'));
    },
  );
});
