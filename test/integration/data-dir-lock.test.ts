import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.js';
import { PROJECT_ROOT } from '../../src/paths.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portal-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the DATA_DIR owner lock', () => {
  it('refuses a second owner with the holder named, and is free again once released', async () => {
    const first = await lockDataDir(dir, 'the portal');
    const err = await lockDataDir(path.join(dir, '.', ''), 'npm run migrate').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).holder).toMatchObject({ pid: process.pid, owner: 'the portal' });
    expect((err as Error).message).toContain(`the portal (pid ${process.pid}`);
    expect((err as Error).message).toContain('DATABASE_URL');
    await first.release();
    const again = await lockDataDir(dir, 'npm run seed');
    await again.release();
    expect(readdirSync(dir)).toEqual([]); // no lock file left behind
  });

  it('dies with its process: after kill -9 of the holder the next owner gets it', { timeout: 30_000 }, async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/db/data-dir-lock.ts').then(async (m) => { await m.lockDataDir(${JSON.stringify(dir)}, 'a test holder'); console.log('locked'); setInterval(() => {}, 1000); })`,
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()),
    );
    const err = (await lockDataDir(dir, 'the portal').catch((e: unknown) => e)) as DataDirLockedError;
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err.holder).toMatchObject({ pid: child.pid, owner: 'a test holder' });
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    const mine = await lockDataDir(dir, 'the portal');
    await mine.release();
  });
});
