/** Two owners of one embedded DATA_DIR: the second (a portal, migrate, seed or admin) refuses at once. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, startPortal } from './support.js';

const root = mkdtempSync(path.join(tmpdir(), 'portal-owner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('one owner per embedded DATA_DIR', () => {
  it(
    'refuses a second portal, migrate, seed and admin while the portal runs, naming it; all work once it stops',
    { timeout: 180_000 },
    async () => {
      const dataDir = path.join(root, 'data');
      const portal = await startPortal({ DATA_DIR: dataDir });
      const pid = portal.child.pid!;

      const second = run('src/server.ts', {
        DATA_DIR: dataDir,
        PORT: String(portal.port + 1),
        HOST: '127.0.0.1',
        SEED_DEMO: 'false',
      });
      const migrate = run('scripts/migrate.ts', { DATA_DIR: dataDir });
      const seed = run('scripts/seed.ts', { DATA_DIR: dataDir }, ['--reference-only']);
      const admin = run('scripts/admin.ts', { DATA_DIR: dataDir }, [
        'reader:create',
        '--school',
        '353607',
        '--level',
        'elementary',
        '--name',
        '側門',
      ]);
      for (const p of [second, migrate, seed, admin]) {
        expect(await p.exited).toEqual({ code: 75, signal: null });
        expect(p.output()).toContain(`in use by the portal (pid ${pid}`);
        expect(p.output()).toContain('DATABASE_URL');
      }
      expect(admin.output()).not.toMatch(/token/i);
      // The portal is unharmed.
      expect((await fetch(`${portal.base}/readyz`)).status).toBe(200);

      portal.child.kill('SIGTERM');
      expect(await portal.exited).toEqual({ code: 0, signal: null });
      const after = run('scripts/admin.ts', { DATA_DIR: dataDir }, [
        'reader:create',
        '--school',
        '353607',
        '--level',
        'elementary',
        '--name',
        '側門',
      ]);
      expect(await after.exited, after.output()).toEqual({ code: 0, signal: null });
      expect(after.output()).toContain('側門');
    },
  );
});
