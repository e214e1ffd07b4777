/**
 * Staff accounts and homeroom teachers: staff:create, staff:disable and class:assign-teacher (導師 and 副導師),
 * what they change for the pages (scope, 審核's 此班級尚無導師, the school office's 教師與班級), and their bad input.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/domain/accounts/passwords.js';
import { login, postForm, signedIn, useTestApp } from '../support/app.js';
import { runAdminCommand } from '../support/admin-cli.js';
import { testDb } from '../support/db.js';
import { createSchool, createStaff } from '../support/factories.js';
import { createRequest, smsWorld } from '../support/subscriptions-factories.js';

const { app } = useTestApp();
const knex = () => testDb().knex;
const admin = (...args: string[]) => runAdminCommand(knex(), args);
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** Every row the staff commands may write. */
async function snapshot() {
  return {
    accounts: await knex()('accounts')
      .orderBy('id')
      .select('id', 'role', 'login', 'display_name', 'disabled_at', 'password_hash'),
    classTeachers: await knex()('class_teachers').orderBy(['class_id', 'role']).select(),
    audit: await knex()('audit_log').orderBy('id').select('action'),
    sessions: await knex()('session').count({ n: '*' }).first(),
  };
}

async function world() {
  const w = await smsWorld(knex());
  await knex()('schools').where({ id: w.schoolId }).update({ code: '313601' });
  return w;
}

describe('staff:create', () => {
  it('creates a teacher and a school admin with a one-time password that must be changed; audited; a dry run writes nothing', async () => {
    const schoolId = await createSchool(knex(), { code: '313601', name: '市立忠孝國小' });
    const dry = await admin(
      'staff:create',
      '--school',
      '313601',
      '--role',
      'teacher',
      '--login',
      't101',
      '--name',
      '陳老師',
      '--dry-run',
    );
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('[dry run，未寫入] 市立忠孝國小：將建立教師帳號 t101（陳老師）');
    expect(await knex()('accounts').count({ n: '*' }).first()).toEqual({ n: 0 });

    const t = await admin(
      'staff:create',
      '--school',
      '313601',
      '--role',
      'teacher',
      '--login',
      't101',
      '--name',
      '陳老師',
    );
    expect(t.code).toBe(0);
    const password = /一次性密碼（只顯示這一次，首次登入必須變更）：(\S+)/.exec(t.out)?.[1];
    expect(password).toMatch(/^.{10}$/);
    const a = await admin(
      'staff:create',
      '--school',
      '313601',
      '--role',
      'school_admin',
      '--login',
      'office',
      '--name',
      '教務處',
    );
    expect(a.code).toBe(0);
    const rows = await knex()('accounts')
      .orderBy('id')
      .select('id', 'role', 'school_id', 'login', 'display_name', 'must_change_password', 'password_hash');
    expect(rows.map(({ id: _id, password_hash: _h, ...r }) => r)).toEqual([
      { role: 'teacher', school_id: schoolId, login: 't101', display_name: '陳老師', must_change_password: true },
      {
        role: 'school_admin',
        school_id: schoolId,
        login: 'office',
        display_name: '教務處',
        must_change_password: true,
      },
    ]);
    expect(await verifyPassword(password!, rows[0]!.password_hash)).toBe(true);
    const log = await knex()('audit_log').orderBy('id').select('action', 'school_id', 'target_id', 'details');
    expect(log.map((l) => [l.action, l.school_id, l.target_id])).toEqual([
      ['account.created', schoolId, String(rows[0]!.id)],
      ['account.created', schoolId, String(rows[1]!.id)],
    ]);
    expect(log[0].details).toMatchObject({ via: 'admin script', login: 't101', role: 'teacher' });
    expect(JSON.stringify(log)).not.toContain(password!);

    // Signs in with it and is sent to change it first.
    const agent = request.agent(app);
    expect((await login(agent, { role: 'teacher', schoolId, login: 't101', password: password! })).status).toBe(303);
    expect((await agent.get('/')).headers.location).toBe('/account/password');
  });

  it('refuses a login that exists (as a teacher or an admin), a bad role, a bad login and a missing name: a message, nothing written', async () => {
    await world();
    const before = await snapshot();
    const cases: [string[], number, string][] = [
      [
        ['--role', 'teacher', '--login', 't401', '--name', '新老師'],
        65,
        '此學校已有帳號 t401（教師 林老師），未建立任何帳號',
      ],
      [['--role', 'school_admin', '--login', 't401', '--name', '新老師'], 65, '此學校已有帳號 t401'],
      [['--role', 'teacher', '--login', 'admin', '--name', '新老師'], 65, '此學校已有帳號 admin（學校管理者'],
      [['--role', 'parent', '--login', 'p1', '--name', '家長'], 65, '身分別有誤：parent'],
      [['--role', 'teacher', '--login', '林 老師', '--name', '林老師'], 65, '格式有誤'],
      [['--role', 'teacher', '--login', 't9'], 64, '缺少參數：--name'],
    ];
    for (const [args, code, message] of cases) {
      const r = await admin('staff:create', '--school', '313601', ...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err).toContain(message);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('staff:disable', () => {
  it("the account signs in no more, its sessions end, audited; its class shows 此班級尚無導師 on the office's 審核", async () => {
    const w = await world();
    await createRequest(knex(), w.sub402, { kind: 'cancellation', requestedOn: '2026-11-23' });
    const session = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't402' });
    expect((await session.get('/reviews')).text).toContain('李小華');
    const office = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    expect((await office.get('/reviews')).text).not.toContain('此班級尚無導師');

    const dry = await admin('staff:disable', '--school', '313601', '--login', 't402', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('將停用帳號 t402（張老師）');
    expect((await knex()('accounts').where({ id: w.teacher402 }).first('disabled_at')).disabled_at).toBeNull();

    const r = await admin('staff:disable', '--school', '313601', '--login', 't402');
    expect(r.code).toBe(0);
    expect(r.out).toContain('已停用帳號 t402（張老師），結束 1 個登入中的工作階段；其 1 個班級將顯示為尚無導師');
    expect((await knex()('accounts').where({ id: w.teacher402 }).first('disabled_at')).disabled_at).not.toBeNull();
    const log = await knex()('audit_log').where({ action: 'account.disabled' }).first('target_id', 'details');
    expect(log).toMatchObject({
      target_id: String(w.teacher402),
      details: { login: 't402', role: 'teacher', classes: 1, sessionsEnded: 1 },
    });

    // Signed out, and cannot sign in again.
    const gone = await session.get('/reviews');
    expect(gone.status).toBe(303);
    expect(gone.headers.location).toMatch(/^\/login/);
    expect((await login(request.agent(app), { role: 'teacher', schoolId: w.schoolId, login: 't402' })).status).toBe(
      422,
    );

    // The office sees 四年二班 flagged, and can still approve its request.
    const reviews = await office.get('/reviews');
    expect(text(reviews.text)).toContain('此班級尚無導師 ：四年二班 有待審核的申請');
    expect(text(reviews.text)).toMatch(/四年二班 此班級尚無導師 11302001 李小華/);
    expect(text(reviews.text)).not.toMatch(/四年一班 此班級尚無導師/);
    const req = await knex()('review_requests').where({ subscription_id: w.sub402 }).first('id');
    expect((await postForm(office, '/reviews', `/reviews/${req.id}/approval`, {})).status).toBe(303);
    expect(await knex()('review_requests').where({ id: req.id }).first('status')).toEqual({ status: 'approved' });
  });

  it("refuses an unknown account, a parent's account and an account already disabled: a message, nothing written", async () => {
    await world();
    await admin('staff:disable', '--school', '313601', '--login', 't402');
    const before = await snapshot();
    const cases: [string, string][] = [
      ['nobody', '找不到此學校的教職員帳號 nobody，未停用任何帳號'],
      ['11301001', '找不到此學校的教職員帳號 11301001'],
      ['t402', '帳號 t402（張老師）已停用'],
    ];
    for (const [loginName, message] of cases) {
      const r = await admin('staff:disable', '--school', '313601', '--login', loginName);
      expect(r.code).toBe(65);
      expect(r.err).toContain(message);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('class:assign-teacher', () => {
  it('a deputy (副導師) reviews the class too; replacing and removing work; each change audited; a dry run writes nothing', async () => {
    const w = await world();
    await createStaff(knex(), w.schoolId, { login: 't499', name: '吳老師' });
    await createRequest(knex(), w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-23' });
    const deputy = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't499' });
    expect((await deputy.get('/reviews')).text).not.toContain('王小明');

    const dry = await admin(
      'class:assign-teacher',
      '--school',
      '313601',
      '--class',
      '401',
      '--teacher',
      't499',
      '--deputy',
      '--dry-run',
    );
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('[dry run，未寫入] 市立忠孝國小：四年一班的副導師將設為 t499');
    expect(await knex()('class_teachers').where({ class_id: w.class401 }).count({ n: '*' }).first()).toEqual({ n: 1 });

    const set = await admin(
      'class:assign-teacher',
      '--school',
      '313601',
      '--class',
      '401',
      '--teacher',
      't499',
      '--deputy',
    );
    expect(set.code).toBe(0);
    expect(set.out).toContain('四年一班的副導師已設為 t499');
    const roles = async () =>
      knex()('class_teachers as ct')
        .join('accounts as a', 'a.id', 'ct.account_id')
        .where('ct.class_id', w.class401)
        .orderBy('ct.role', 'desc')
        .select('a.login', 'ct.role');
    expect(await roles()).toEqual([
      { login: 't401', role: 'homeroom' },
      { login: 't499', role: 'deputy' },
    ]);
    // The deputy's "my classes" include 401: sees and approves its request.
    expect((await deputy.get('/reviews')).text).toContain('王小明');
    const req = await knex()('review_requests')
      .where({ subscription_id: w.subscriptionId, status: 'pending' })
      .first('id');
    expect((await postForm(deputy, '/reviews', `/reviews/${req.id}/approval`, {})).status).toBe(303);
    expect(await knex()('review_requests').where({ id: req.id }).first('status')).toEqual({ status: 'approved' });

    // The deputy becomes the 導師 (replacing t401, leaving the deputy role); then the 導師 is removed.
    const promote = await admin('class:assign-teacher', '--school', '313601', '--class', '401', '--teacher', 't499');
    expect(promote.out).toContain('四年一班的導師已設為 t499（取代 t401）');
    expect(await roles()).toEqual([{ login: 't499', role: 'homeroom' }]);
    const same = await admin('class:assign-teacher', '--school', '313601', '--class', '401', '--teacher', 't499');
    expect(same.out).toContain('四年一班的導師已是 t499，未變更');
    const removed = await admin('class:assign-teacher', '--school', '313601', '--class', '401', '--remove');
    expect(removed.code).toBe(0);
    expect(removed.out).toContain('已移除四年一班的導師 t499');
    expect(await roles()).toEqual([]);
    const log = await knex()('audit_log')
      .where('action', 'like', 'class_teacher.%')
      .orderBy('id')
      .select('action', 'details');
    expect(log.map((l) => [l.action, l.details.role, l.details.login, l.details.replaced ?? null])).toEqual([
      ['class_teacher.assigned', 'deputy', 't499', null],
      ['class_teacher.assigned', 'homeroom', 't499', 't401'],
      ['class_teacher.removed', 'homeroom', 't499', null],
    ]);
  });

  it('refuses a teacher of another school, a school admin, an unknown teacher, an unknown class and a remove of nobody: a message, nothing written', async () => {
    const w = await world();
    const other = await createSchool(knex(), { code: '413601', name: '市立景美國中', level: 'junior_high' });
    await createStaff(knex(), other, { login: 't701', name: '景美老師' });
    await createStaff(knex(), w.schoolId, { login: 't499', name: '吳老師' });
    await admin('staff:disable', '--school', '313601', '--login', 't499');
    const before = await snapshot();
    const cases: [string[], number, string][] = [
      [
        ['--class', '401', '--teacher', 't701'],
        65,
        '帳號 t701 不是本校的教師帳號（請先以 staff:create 建立），未變更任何資料',
      ],
      [['--class', '401', '--teacher', 'admin'], 65, '帳號 admin 是學校管理者，不是教師'],
      [['--class', '401', '--teacher', 't499'], 65, '教師帳號 t499 已停用'],
      [['--class', '999', '--teacher', 't401'], 65, '找不到 115 學年度的班級 999'],
      [['--class', '401', '--teacher', 't401', '--year', '114'], 65, '找不到 114 學年度的班級 401'],
      [['--class', '402', '--remove', '--deputy'], 65, '四年二班 目前沒有副導師'],
      [['--class', '401', '--teacher', 't401', '--remove'], 64, '--teacher 與 --remove 只能擇一'],
      [['--class', '401'], 64, '缺少參數：--teacher'],
    ];
    for (const [args, code, message] of cases) {
      const r = await admin('class:assign-teacher', '--school', '313601', ...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err).toContain(message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('lists the new commands in the help, without opening the database', async () => {
    const help = await admin('--help');
    for (const name of ['staff:create', 'staff:disable', 'class:assign-teacher']) expect(help.out).toContain(name);
    for (const name of ['staff:create', 'staff:disable', 'class:assign-teacher']) {
      const h = await admin(name, '--help');
      expect(h.code).toBe(0);
      expect(h.out).toContain(`usage: npm run admin -- ${name}`);
      expect(h.opened).toBe(false);
    }
  });
});

describe('GET /sms/teachers (教師與班級)', () => {
  it('the school office reads its teachers, their state and classes (導師 / 副導師); teachers and parents get 404', async () => {
    const w = await world();
    await createStaff(knex(), w.schoolId, { login: 't499', name: '吳老師' });
    await admin('class:assign-teacher', '--school', '313601', '--class', '402', '--teacher', 't499', '--deputy');
    await admin('staff:disable', '--school', '313601', '--login', 't402');
    const other = await createSchool(knex(), { name: '市立景美國中', level: 'junior_high' });
    await createStaff(knex(), other, { login: 't701', name: '景美老師' });

    const office = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const page = await office.get('/sms/teachers');
    expect(page.status).toBe(200);
    const t = text(page.text);
    expect(t).toContain('帳號 姓名 狀態 班級');
    expect(t).toContain('t401 林老師 使用中 四年一班（115 學年度）導師');
    expect(t).toContain('t499 吳老師 使用中 四年二班（115 學年度）副導師');
    expect(t).toContain('t402 張老師 已停用 四年二班（115 學年度）導師');
    expect(t.indexOf('t499')).toBeLessThan(t.indexOf('t402')); // active first
    expect(t).not.toContain('景美老師');
    expect(t).not.toContain('此班級尚無導師'); // 402 still has its active deputy
    expect(page.text).toMatch(/href="\/sms\/teachers" aria-current="page"/);
    expect((await office.get('/sms/subscriptions')).text).toContain('href="/sms/teachers"');

    // With the deputy removed too, 402 has no active teacher.
    await admin('class:assign-teacher', '--school', '313601', '--class', '402', '--remove', '--deputy');
    expect(text((await office.get('/sms/teachers')).text)).toContain('此班級尚無導師 （115 學年度）：四年二班');

    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect((await teacher.get('/sms/teachers')).status).toBe(404);
    expect((await teacher.get('/sms/subscriptions')).text).not.toContain('href="/sms/teachers"');
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await parent.get('/sms/teachers')).status).toBe(404);
  });
});
