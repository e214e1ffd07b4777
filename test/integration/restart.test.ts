import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrate.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the embedded database on DATA_DIR', () => {
  it('keeps a row written before a restart', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
    const first = await openDatabase(config);
    expect(first.embedded).toBe(true);
    expect(await migrateLatest(first.knex)).not.toHaveLength(0);
    await first.knex('districts').insert({ name: '中正區', sort_order: 1 });
    await first.close();

    const second = await openDatabase(config);
    try {
      expect(await migrateLatest(second.knex)).toEqual([]); // already migrated: nothing to apply
      expect(await second.knex('districts').pluck('name')).toEqual(['中正區']);
    } finally {
      await second.close();
    }
  });
});
