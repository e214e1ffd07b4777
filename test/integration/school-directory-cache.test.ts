/**
 * The login page's reference lists (districts, levels, schools) are kept in memory for REFERENCE_CACHE_SECONDS:
 * within that time the page reads nothing from the database for them, and a school added by the reference data
 * shows once the copy expires. Off (0) under NODE_ENV=test unless asked, since tests refill the tables.
 */
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { listSchools, loginDirectory, schoolDirectory } from '../../src/domain/schools/school-directory.js';
import { testDb } from '../support/db.js';
import { useTestApp } from '../support/app.js';
import { createSchool } from '../support/factories.js';

const { app } = useTestApp({ env: { REFERENCE_CACHE_SECONDS: '30' } });
const knex = () => testDb().knex;

/** The statements Knex sends while `fn` runs. */
async function statementsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const sqls: string[] = [];
  const listener = (q: { sql: string }) => sqls.push(q.sql);
  knex().on('query', listener);
  try {
    await fn();
  } finally {
    knex().off('query', listener);
  }
  return sqls;
}

describe('the reference lists in memory', () => {
  it('are read once, served from memory while young, and read again once expired', async () => {
    const a = await createSchool(knex(), { name: '市立甲國小', district: '中正區' });
    const t0 = Date.now() + 1_000_000; // a time of its own, so no other test's copy is young at t0
    expect(await statementsOf(() => schoolDirectory(knex(), 30_000, t0))).toHaveLength(1);
    const b = await createSchool(knex(), { name: '市立乙國小', district: '中正區' });
    let listed: number[] = [];
    expect(
      await statementsOf(async () => {
        listed = (await schoolDirectory(knex(), 30_000, t0 + 29_000)).schools.map((s) => s.id);
      }),
    ).toEqual([]);
    expect(listed).toEqual([a]); // still the copy read at t0
    expect(
      await statementsOf(async () => {
        listed = (await schoolDirectory(knex(), 30_000, t0 + 30_000)).schools.map((s) => s.id);
      }),
    ).toHaveLength(1);
    expect(listed.sort()).toEqual([a, b].sort());
    // 0: read every time.
    expect(await statementsOf(() => schoolDirectory(knex(), 0))).toHaveLength(1);
    expect(await statementsOf(() => schoolDirectory(knex(), 0))).toHaveLength(1);
  });

  it('list what the page showed before: the chosen (or first) district and level, schools by name', async () => {
    const a = await createSchool(knex(), { name: '市立乙國小', district: '中正區' });
    const b = await createSchool(knex(), { name: '市立甲國小', district: '中正區' });
    const c = await createSchool(knex(), { name: '市立丙國中', district: '中正區', level: 'junior_high' });
    const d = await createSchool(knex(), { name: '市立丁國小', district: '大安區' });
    const byName = (await knex()('schools').whereIn('id', [a, b]).orderBy(['name', 'id']).pluck('id')) as number[];
    const first = await loginDirectory(knex(), {});
    expect(first.districtId).toBe(first.districts[0]!.id);
    expect(first.level).toBe(first.levels[0]?.code);
    const daan = first.districts.find((x) => x.name === '大安區')!.id;
    const zhongzheng = first.districts.find((x) => x.name === '中正區')!.id;
    const zz = await loginDirectory(knex(), { districtId: zhongzheng, level: 'elementary' });
    expect(zz.schools.map((s) => s.id)).toEqual(byName);
    expect((await listSchools(knex(), zhongzheng, 'junior_high')).map((s) => s.id)).toEqual([c]);
    expect((await listSchools(knex(), daan, 'elementary')).map((s) => s.id)).toEqual([d]);
    expect((await listSchools(knex(), 999_999, 'elementary')).map((s) => s.id)).toEqual([]);
  });

  it('spare the login page its read: its only statement is the anonymous session', async () => {
    await createSchool(knex(), { name: '市立甲國小', district: '中正區' });
    await request(app).get('/login').expect(200); // loads the copy
    expect(await statementsOf(() => request(app).get('/login').expect(200))).toEqual([]);
    expect(await statementsOf(() => request(app).get('/api/schools?districtId=1&level=elementary'))).toEqual([]);
  });

  it('are off under NODE_ENV=test and 30 s elsewhere, unless set', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).referenceCacheMs).toBe(0);
    expect(loadConfig({ NODE_ENV: 'development' }).referenceCacheMs).toBe(30_000);
    expect(loadConfig({ NODE_ENV: 'development', REFERENCE_CACHE_SECONDS: '0' }).referenceCacheMs).toBe(0);
  });
});
