/**
 * Per-request overhead: a page that changes nothing in the session writes nothing to the session
 * store and sends no new cookie; activity is recorded at most once a minute, and the idle (30 min) and
 * absolute (12 h) timeouts still end the session. The session, the user and the staff's 審核 count are read in
 * one statement.
 */
import { describe, expect, it } from 'vitest';
import { pendingReviewCount } from '../../src/domain/subscriptions/queries.js';
import { statementsOf, testDb } from '../support/db.js';
import { signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld } from '../support/factories.js';
import { createRequest, smsWorld, userFor } from '../support/subscriptions-factories.js';

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

  it("reads the session, the user and the staff's 審核 count in one statement", async () => {
    const w = await smsWorld(knex());
    await createRequest(knex(), w.subscriptionId, { kind: 'cancellation' }); // 401: t401's and the office's
    await createRequest(knex(), w.sub402, { kind: 'cancellation' }); // 402: the office's only
    const agents = {
      parent: await signedIn(app, { schoolId: w.schoolId, login: '11301001' }),
      teacher: await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' }),
      school_admin: await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' }),
    };
    const expected = {
      parent: undefined,
      teacher: await pendingReviewCount(knex(), await userFor(knex(), w.teacher401)),
      school_admin: await pendingReviewCount(knex(), await userFor(knex(), w.admin)),
    };
    expect([expected.teacher, expected.school_admin]).toEqual([1, 2]);
    for (const [role, agent] of Object.entries(agents) as [keyof typeof agents, (typeof agents)['parent']][]) {
      await agent.get('/').expect(200); // the first page after sign-in may consume the sign-in's flash
      // Every statement any pool sends (Knex's and the session store's alike).
      const { result: page, sqls } = await statementsOf(() => agent.get('/sms').expect(200));
      // The first statement reads the session row and its user (with children / classes / the badge's count)…
      expect(sqls[0]).toMatch(/from "session" where sid = \$1/);
      expect(sqls[0]).toContain('acc as (');
      // …and nothing else reads the session, the account, the teacher's classes or the pending count again.
      expect(
        sqls
          .slice(1)
          .filter((s) =>
            /"session"|acc as \(|class_teachers" where "account_id"|"gs"."guardian_id" = "a"|status = \$1 offset 0/.test(
              s,
            ),
          ),
      ).toEqual([]);
      if (expected[role] === undefined) expect(page.text).not.toMatch(/待審核 \d+ 件/);
      else expect(page.text).toContain(`aria-label="待審核 ${expected[role]} 件"`);
    }
  });

  it('serves many signed-in requests at once, each with its own user (several connections of the store)', async () => {
    const w = await smsWorld(knex());
    await createRequest(knex(), w.subscriptionId, { kind: 'cancellation' });
    const agents = [
      { agent: await signedIn(app, { schoolId: w.schoolId, login: '11301001' }), name: '學生：王小明' },
      { agent: await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' }), name: '教師：林老師' },
      {
        agent: await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' }),
        name: '忠孝國小教務處',
      },
    ];
    for (const a of agents) await a.agent.get('/').expect(200);
    const pages = await Promise.all(
      Array.from({ length: 30 }, (_, i) => agents[i % 3]!).map(async (a) => ({ a, res: await a.agent.get('/') })),
    );
    for (const { a, res } of pages) {
      expect(res.status).toBe(200);
      expect(res.text).toContain(a.name);
    }
  });
});
