/**
 * Per-request overhead: a page that changes nothing in the session writes nothing to the session
 * store and sends no new cookie; activity is recorded at most once a minute, and the idle (30 min) and
 * absolute (12 h) timeouts still end the session. The user is loaded in one statement.
 */
import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';

const { app, clock } = useTestApp();
const knex = () => testDb().knex;
const sessionRow = async () =>
  (await knex()('session').first('sess', 'expire')) as { sess: { lastSeenAt: number }; expire: Date };
const isSignedIn = async (agent: Awaited<ReturnType<typeof signedIn>>) => (await agent.get('/')).status === 200;

describe('the session row', () => {
  it('is not rewritten by pages within a minute of the last recorded activity, and is after a minute', async () => {
    const w = await createSchoolWorld(knex());
    const agent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    await agent.get('/').expect(200); // the first page after sign-in may consume the sign-in's flash
    const before = await sessionRow();
    for (const path of ['/', '/attendance', '/sms/subscriptions', '/announcements']) {
      clock.advance(10_000);
      const res = await agent.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(await knex()('session').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(await sessionRow()).toEqual(before);

    clock.advance(61_000);
    const later = await agent.get('/');
    expect(later.status).toBe(200);
    expect(String(later.headers['set-cookie'])).toMatch(/^sid=.*HttpOnly/);
    const after = await sessionRow();
    expect(after.sess.lastSeenAt).toBe(clock.now().getTime());
    expect(after.expire.getTime()).toBeGreaterThanOrEqual(before.expire.getTime());
  });

  it('still ends a session idle for 30 minutes (counted from the last recorded activity) and one alive for 12 hours', async () => {
    const w = await createSchoolWorld(knex());
    const idle = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    clock.advance(30_000);
    expect(await isSignedIn(idle)).toBe(true); // not recorded: within the minute
    clock.advance(29 * 60_000 + 31_000); // 30 min 01 s after the recorded activity, 29 min 31 s after the last page
    expect(await isSignedIn(idle)).toBe(false);

    const busy = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    for (let i = 0; i < 24; i++) {
      clock.advance(29 * 60_000);
      expect(await isSignedIn(busy)).toBe(true);
    }
    clock.advance(29 * 60_000); // 12 h 05 min after sign-in
    expect(await isSignedIn(busy)).toBe(false);
  });

  it('loads the signed-in user in one statement', async () => {
    const w = await createSchoolWorld(knex());
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    for (const agent of [parent, teacher]) {
      const sqls: string[] = [];
      const listener = (q: { sql: string }) => sqls.push(q.sql);
      knex().on('query', listener);
      await agent.get('/').expect(200);
      knex().off('query', listener);
      // The user (with children / classes) is one statement; nothing else reads accounts or class_teachers first.
      expect(sqls[0]).toContain('with acc as');
      expect(sqls.filter((s) => s.includes('with acc as'))).toHaveLength(1);
      expect(
        sqls.filter((s) =>
          /from "class_teachers" where "account_id"|inner join "guardian_students" as "gs" on "gs"."guardian_id" = "a"."guardian_id"/.test(
            s,
          ),
        ),
      ).toEqual([]);
    }
  });
});
