import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, seedReference } from '../../src/db/seed.js';
import { buildTestApp, login } from '../support/app.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';

// The demo data as a visitor meets it: Thursday 2026-11-26, 10:00 in Taipei.
const { app, clock, config } = buildTestApp({ now: '2026-11-26T02:00:00Z' });
const knex = () => testDb().knex;
const schoolId = async (name: string) => (await knex()('schools').where({ name }).first('id')).id as number;

beforeAll(async () => {
  await resetDb();
  await seedReference(knex(), clock);
  await seedDemo(knex(), clock, { publicUrl: config.publicUrl });
});
afterAll(async () => {
  await app.shutdown();
  await resetDb();
  await closeTestDb();
});

describe('the demo accounts of the README', () => {
  it.each([
    ['parent', '市立忠孝國小', '11301001'],
    ['parent', '市立忠孝國小', '11301002'],
    ['teacher', '市立忠孝國小', 't401'],
    ['teacher', '市立忠孝國小', 't402'],
    ['school_admin', '市立忠孝國小', 'admin'],
    ['parent', '市立景美國中', '11201001'],
  ] as const)(
    '%s %s %s signs in with demo-1234 straight to 首頁 (no forced password change)',
    async (role, school, account) => {
      const agent = request.agent(app);
      const res = await login(agent, { role, schoolId: await schoolId(school), login: account, password: 'demo-1234' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
      const home = await agent.get('/');
      expect(home.status).toBe(200);
      expect(home.text).toContain(`所屬單位：${school}`);
    },
  );

  it('shows 王小明’s parent the 出勤統計 with card times, a 補登 and a 未刷卡 day', async () => {
    const agent = request.agent(app);
    await login(agent, { schoolId: await schoolId('市立忠孝國小'), login: '11301001' });
    const home = await agent.get('/');
    expect(home.text).toContain('學生：王小明');
    expect(home.text).toContain('補登 09:11');
    expect(home.text).toContain('未刷卡');
    expect(home.text).toMatch(/07:3\d/);
    expect(home.text).toContain('統計時間:2026-11-20~2026-11-26');
  });
});
