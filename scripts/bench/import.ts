/**
 * The roster import row: `npm run admin -- import` of one school's 2,000 students, timed as an operator runs it
 * (its own process, tsx start-up included), on a scratch database of the same PostgreSQL server (created, migrated,
 * given the reference data, and dropped again), so the city and the one-school databases are left as they were.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { seedReference } from '../../src/db/seed.js';
import { systemClock } from '../../src/clock.js';
import { ADULT, chineseNumeral, CLASS_SIZE, GIVEN, SURNAMES } from '../../src/dev/demo-city.js';
import { ROOT } from './processes.js';

export interface ImportResult {
  students: number;
  /** Wall time of the first import (everything new) and of the same file again (nothing changes), in seconds. */
  first: number;
  again: number;
  stored: number;
}

/** A roster in the import's format: `students` pupils in classes of CLASS_SIZE, grades 1–6, one guardian each. */
export function rosterCsv(students: number): string {
  const lines = ['班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係'];
  for (let i = 0; i < students; i++) {
    const k = Math.floor(i / CLASS_SIZE);
    const grade = (k % 6) + 1;
    const code = `${grade}${String(Math.floor(k / 6) + 1).padStart(2, '0')}`;
    const name = `${chineseNumeral(grade)}年${chineseNumeral(Math.floor(k / 6) + 1)}班`;
    const surname = SURNAMES[(i * 7) % SURNAMES.length]!;
    lines.push(
      [
        code,
        name,
        grade,
        `B${String(i + 1).padStart(6, '0')}`,
        (i % CLASS_SIZE) + 1,
        surname + GIVEN[(i * 13) % GIVEN.length]!,
        surname + ADULT[(i * 5) % ADULT.length]!,
        i % 2 ? '母' : '父',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function run(args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve((performance.now() - started) / 1000)
        : reject(new Error(`admin ${args[0]} exited ${code}: ${stderr}`)),
    );
  });
}

export async function importRow(serverUrl: string, students = 2000): Promise<ImportResult> {
  const scratch = `bench_import_${process.pid}`;
  const url = new URL(serverUrl);
  url.pathname = `/${scratch}`;
  const admin = connect(serverUrl, { dbPoolMax: 1, dbStatementTimeoutMs: 60_000 });
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-import-'));
  try {
    await admin.knex.raw(`drop database if exists ${scratch}`);
    await admin.knex.raw(`create database ${scratch}`);
    const db = connect(url.href, { dbPoolMax: 2, dbStatementTimeoutMs: 120_000 });
    let school: { code: string; level: string };
    try {
      await migrateLatest(db.knex);
      await seedReference(db.knex, systemClock());
      school = (await db.knex('schools').where({ level: 'elementary' }).orderBy('code').first('code', 'level')) as {
        code: string;
        level: string;
      };
    } finally {
      await db.knex.destroy();
    }
    const file = path.join(dir, 'roster.csv');
    await writeFile(file, rosterCsv(students));
    const args = ['import', '--school', school.code, '--file', file, '--passwords-out', path.join(dir, 'pw.csv')];
    const env = { DATABASE_URL: url.href, LOG_LEVEL: 'warn' };
    const first = await run(args, env);
    const again = await run(args, env);
    const check = connect(url.href, { dbPoolMax: 1, dbStatementTimeoutMs: 60_000 });
    try {
      const row = await check.knex('students').count<{ n: string }[]>({ n: '*' }).first();
      return { students, first, again, stored: Number(row?.n ?? 0) };
    } finally {
      await check.knex.destroy();
    }
  } finally {
    await admin.knex.raw(`drop database if exists ${scratch} with (force)`).catch(() => undefined);
    await admin.knex.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
