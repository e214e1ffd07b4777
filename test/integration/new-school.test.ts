/**
 * A school that has never used the portal, started the way README's admin section tells an office to: the
 * scripts (`npm run admin -- …`, run here as the real entry point scripts/admin.ts in its own process) and then
 * the pages. 市立東門國小 (353606) is in the seeded Taipei list and the demo does not use it.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject, describe, expect, it } from 'vitest';
import request from 'supertest';
import { seedReference } from '../../src/db/seed.js';
import { FixedClock } from '../../src/clock.js';
import { DEFAULT_NOW, login, postForm, useTestApp } from '../support/app.js';
import { testDb } from '../support/db.js';
import { runEntry } from '../support/processes.js';

const { app } = useTestApp();
const knex = () => testDb().knex;
const SCHOOL = '353606';

/** `npm run admin -- <args>`: scripts/admin.ts on the test database, the clock at the test's now. */
async function admin(...args: string[]): Promise<{ code: number | null; output: string }> {
  const p = runEntry(
    'scripts/admin.ts',
    { DATABASE_URL: inject('databaseUrl'), NODE_ENV: 'test', APP_NOW: DEFAULT_NOW, LOG_LEVEL: 'silent' },
    args,
  );
  const { code } = await p.exited;
  return { code, output: p.output() };
}

const otpOf = (output: string) => {
  const m = /一次性密碼（只顯示這一次，首次登入必須變更）：(\S+)/.exec(output);
  if (!m?.[1]) throw new Error(`no one-time password in: ${output}`);
  return m[1];
};

/** Sign in with a one-time password: the portal sends the user to change it first; the new one works. */
async function firstSignIn(o: {
  role: 'parent' | 'teacher' | 'school_admin';
  schoolId: number;
  login: string;
  otp: string;
  chosen: string;
}) {
  const agent = request.agent(app);
  expect((await login(agent, { role: o.role, schoolId: o.schoolId, login: o.login, password: o.otp })).status).toBe(
    303,
  );
  const home = await agent.get('/');
  expect(home.status).toBe(303);
  expect(home.headers.location).toBe('/account/password');
  const changed = await postForm(agent, '/account/password', '/account/password', {
    currentPassword: o.otp,
    newPassword: o.chosen,
    confirmPassword: o.chosen,
  });
  expect(changed.status).toBe(303);
  expect((await agent.get('/')).status).toBe(200);
  return agent;
}

describe('a new school from nothing, with the scripts and the pages', () => {
  it('staff accounts, an import with 導師帳號, a period; a parent orders and the teacher approves', async () => {
    await seedReference(knex(), new FixedClock(DEFAULT_NOW));
    const school = await knex()('schools').where({ code: SCHOOL }).first('id', 'name');
    expect(school.name).toBe('市立東門國小');
    expect(await knex()('classes').where({ school_id: school.id }).count({ n: '*' }).first()).toEqual({ n: 0 });

    // 1. Staff accounts (a dry run first: nothing written).
    const dry = await admin(
      'staff:create',
      '--school',
      SCHOOL,
      '--role',
      'teacher',
      '--login',
      't101',
      '--name',
      '陳老師',
      '--dry-run',
    );
    expect(dry.code).toBe(0);
    expect(dry.output).toContain('[dry run，未寫入] 市立東門國小：將建立教師帳號 t101（陳老師）');
    expect(await knex()('accounts').where({ school_id: school.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
    const t101 = await admin(
      'staff:create',
      '--school',
      SCHOOL,
      '--role',
      'teacher',
      '--login',
      't101',
      '--name',
      '陳老師',
    );
    expect(t101.code).toBe(0);
    const t102 = await admin(
      'staff:create',
      '--school',
      SCHOOL,
      '--role',
      'teacher',
      '--login',
      't102',
      '--name',
      '黃老師',
    );
    expect(t102.code).toBe(0);
    const office = await admin(
      'staff:create',
      '--school',
      SCHOOL,
      '--role',
      'school_admin',
      '--login',
      'office',
      '--name',
      '東門國小教務處',
    );
    expect(office.code).toBe(0);
    expect(
      await knex()('accounts')
        .where({ school_id: school.id })
        .orderBy('login')
        .select('role', 'login', 'display_name', 'must_change_password'),
    ).toEqual([
      { role: 'school_admin', login: 'office', display_name: '東門國小教務處', must_change_password: true },
      { role: 'teacher', login: 't101', display_name: '陳老師', must_change_password: true },
      { role: 'teacher', login: 't102', display_name: '黃老師', must_change_password: true },
    ]);

    // 2. The roster with its 導師帳號 column (README's example file), and the passwords file.
    const dir = await mkdtemp(path.join(tmpdir(), 'new-school-'));
    const passwords = path.join(dir, 'passwords.csv');
    const imported = await admin(
      'import',
      '--school',
      SCHOOL,
      '--file',
      'docs/examples/roster-with-teachers.csv',
      '--passwords-out',
      passwords,
    );
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output).toContain('導師：指派 2、未變更 0');
    const slips = (await readFile(passwords, 'utf8'))
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(','));
    expect(slips[0]).toEqual(['班級', '座號', '學生姓名', '帳號', '一次性密碼']);
    expect(slips.slice(1).map((r) => r.slice(0, 4))).toEqual([
      ['一年一班', '1', '蔡小安', '11510101'],
      ['一年一班', '2', '許小晴', '11510102'],
      ['一年二班', '1', '周小宇', '11510201'],
    ]);
    const homerooms = await knex()('class_teachers as ct')
      .join('classes as c', 'c.id', 'ct.class_id')
      .join('accounts as a', 'a.id', 'ct.account_id')
      .orderBy('c.code')
      .select('c.code', 'a.login', 'ct.role');
    expect(homerooms).toEqual([
      { code: '101', login: 't101', role: 'homeroom' },
      { code: '102', login: 't102', role: 'homeroom' },
    ]);

    // 3. The service period.
    const period = await admin(
      'period:create',
      '--school',
      SCHOOL,
      '--name',
      '115學年度上學期',
      '--starts',
      '2026-08-31',
      '--ends',
      '2027-01-20',
      '--arrival-fee',
      '150',
      '--departure-fee',
      '150',
    );
    expect(period.code, period.output).toBe(0);
    const periodId = (await knex()('service_periods').where({ school_id: school.id }).first('id')).id as number;

    // 4. The parent of 蔡小安 signs in with the slip's one-time password, changes it and orders (新增申請).
    const slip = slips.find((r) => r[3] === '11510101')!;
    const parent = await firstSignIn({
      role: 'parent',
      schoolId: school.id,
      login: '11510101',
      otp: slip[4]!,
      chosen: 'tsai-family-2026',
    });
    const student = await knex()('students').where({ school_id: school.id, student_number: '11510101' }).first('id');
    const form = await parent.get('/sms/subscriptions/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('115學年度上學期');
    const ordered = await postForm(parent, '/sms/subscriptions/new', '/sms/subscriptions', {
      studentId: String(student.id),
      periodId: String(periodId),
      arrival: '1',
      departure: '1',
      intent: 'submit',
    });
    expect(ordered.status).toBe(303);
    const sub = await knex()('subscriptions').where({ student_id: student.id }).first('id', 'status', 'applicant_name');
    expect(sub).toMatchObject({ status: 'pending', applicant_name: '蔡志明' });

    // 5. The homeroom teacher signs in (one-time password, change) and approves it on 審核.
    const teacher = await firstSignIn({
      role: 'teacher',
      schoolId: school.id,
      login: 't101',
      otp: otpOf(t101.output),
      chosen: 'chen-teacher-2026',
    });
    const reviews = await teacher.get('/reviews');
    expect(reviews.status).toBe(200);
    expect(reviews.text).toContain('蔡小安');
    expect(reviews.text).not.toContain('此班級尚無導師');
    const req = await knex()('review_requests').where({ subscription_id: sub.id }).first('id');
    const approved = await postForm(teacher, '/reviews', `/reviews/${req.id}/approval`, {});
    expect(approved.status).toBe(303);
    expect(await knex()('review_requests').where({ id: req.id }).first('status', 'effective_on')).toEqual({
      status: 'approved',
      effective_on: '2026-11-25',
    });
    expect(await knex()('subscriptions').where({ id: sub.id }).first('status')).toEqual({ status: 'active' });
    // The other class's teacher does not see 一年一班's students.
    const other = await firstSignIn({
      role: 'teacher',
      schoolId: school.id,
      login: 't102',
      otp: otpOf(t102.output),
      chosen: 'huang-teacher-2026',
    });
    expect((await other.get('/reviews')).text).not.toContain('蔡小安');

    // 6. The school office signs in and reads its teachers and their classes.
    const officeAgent = await firstSignIn({
      role: 'school_admin',
      schoolId: school.id,
      login: 'office',
      otp: otpOf(office.output),
      chosen: 'dongmen-office-2026',
    });
    const page = await officeAgent.get('/sms/teachers');
    expect(page.status).toBe(200);
    const text = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('t101 陳老師 使用中 一年一班（115 學年度）導師');
    expect(text).toContain('t102 黃老師 使用中 一年二班（115 學年度）導師');
    const actions = await knex()('audit_log').where({ school_id: school.id }).orderBy('id').pluck('action');
    expect(actions.slice(0, 7)).toEqual([
      'account.created',
      'account.created',
      'account.created',
      'class_teacher.assigned',
      'class_teacher.assigned',
      'admin.import',
      'period.created',
    ]);
  }, 240_000);
});
