import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { importRoster } from '../../src/domain/admin/import-roster.js';
import {
  BCRYPT_COST,
  bcryptCostOf,
  hashOneTimePassword,
  ONE_TIME_PASSWORD_COST,
} from '../../src/domain/accounts/passwords.js';
import { login, postForm, useTestApp } from '../support/app.js';
import { testDb } from '../support/db.js';
import { createSchool } from '../support/factories.js';

const { app } = useTestApp();
const knex = () => testDb().knex;
const HEADER = '班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係';

describe('roster import: one-time passwords at a lower cost, chosen passwords at cost 12', () => {
  it('a generated one-time password signs in and forces a change; the chosen password is stored at cost 12', async () => {
    const schoolId = await createSchool(knex(), { name: '市立忠孝國小' });
    const csv = [
      HEADER,
      '401,四年一班,4,11301101,11,林小安,林大安,父',
      '401,四年一班,4,11301102,12,黃小芸,黃美玲,母',
    ].join('\n');
    const r = await importRoster(knex(), csv, { schoolId, schoolYear: 115 });
    expect(r.ok).toBe(true);
    expect(r.accounts).toHaveLength(2);
    const otp = r.accounts[0]!.password;
    const stored = await knex()('accounts').where({ login: '11301101' }).first('password_hash', 'must_change_password');
    expect(bcryptCostOf(stored.password_hash)).toBe(ONE_TIME_PASSWORD_COST);
    expect(stored.must_change_password).toBe(true);
    // Each account has its own password (and hash).
    expect(r.accounts[1]!.password).not.toBe(otp);

    const parent = request.agent(app);
    expect((await login(parent, { schoolId, login: '11301101', password: 'wrong-password' })).status).toBe(422);
    expect((await login(parent, { schoolId, login: '11301101', password: otp })).status).toBe(303);
    const home = await parent.get('/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/account/password');

    const chosen = 'my-own-secret-2026';
    const changed = await postForm(parent, '/account/password', '/account/password', {
      currentPassword: otp,
      newPassword: chosen,
      confirmPassword: chosen,
    });
    expect(changed.status).toBe(303);
    const after = await knex()('accounts').where({ login: '11301101' }).first('password_hash', 'must_change_password');
    expect(bcryptCostOf(after.password_hash)).toBe(BCRYPT_COST);
    expect(BCRYPT_COST).toBeGreaterThanOrEqual(12);
    expect(after.must_change_password).toBe(false);
    expect((await parent.get('/')).status).toBe(200);

    // The one-time password no longer works; the chosen one does.
    const again = request.agent(app);
    expect((await login(again, { schoolId, login: '11301101', password: otp })).status).toBe(422);
    expect((await login(again, { schoolId, login: '11301101', password: chosen })).status).toBe(303);
  });

  it('refuses to hash anything but a generated one-time password at the lower cost', async () => {
    await expect(hashOneTimePassword('my chosen password')).rejects.toThrow(/one-time/);
    await expect(hashOneTimePassword('demo-1234')).rejects.toThrow(/one-time/);
  });

  it('imports 200 students in bulk: every account, guardian and link written, each with a distinct password', async () => {
    const schoolId = await createSchool(knex(), { name: '市立忠孝國小' });
    const lines = [HEADER];
    for (let i = 0; i < 200; i++) {
      const cls = 401 + Math.floor(i / 30);
      lines.push(`${cls},${cls}班,4,1130${String(i).padStart(4, '0')},${(i % 30) + 1},學生${i},家長${i},母`);
    }
    const r = await importRoster(knex(), lines.join('\n'), { schoolId, schoolYear: 115 });
    expect(r.ok).toBe(true);
    expect(r.students.created).toBe(200);
    expect(r.classes.created).toBe(7);
    expect(new Set(r.accounts.map((a) => a.password)).size).toBe(200);
    const joined = (await knex()
      .raw(
        `select count(*)::int as n from accounts a join guardians g on g.id = a.guardian_id
           join guardian_students gs on gs.guardian_id = g.id join students st on st.id = gs.student_id
          where a.role = 'parent' and a.login = st.student_number and a.display_name = g.name and st.school_id = ?`,
        [schoolId],
      )
      .then((x: { rows: { n: number }[] }) => x.rows[0]!.n)) as number;
    expect(joined).toBe(200);
    const again = await importRoster(knex(), lines.join('\n'), { schoolId, schoolYear: 115 });
    expect(again.guardians).toEqual({ created: 0, updated: 0, unchanged: 200 });
    expect(again.accounts).toEqual([]);
  });
});
