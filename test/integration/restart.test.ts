import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/connection.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the embedded database on DATA_DIR', () => {
  // Two cold starts of PGlite on disk: seconds each, more on a busy machine.
  it('keeps a row written before a restart', { timeout: 180_000 }, async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
    const first = await openDatabase(config);
    expect(first.embedded).toBe(true);
    await first.knex.raw('create table restart_probe (id serial primary key, name text not null)');
    await first.knex('restart_probe').insert({ name: '中正區' });
    await first.close();

    const second = await openDatabase(config);
    try {
      expect(await second.knex('restart_probe').pluck('name')).toEqual(['中正區']);
    } finally {
      await second.close();
    }
  });
});
