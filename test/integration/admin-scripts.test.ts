import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createClass, createSchool, createSchoolWorld, createStudent, createParent } from '../support/factories.js';
import { runAdmin, type CliContext } from '../../src/cli/admin.js';
import { importRoster, validateRoster } from '../../src/domain/admin/import-roster.js';
import { parseCsv } from '../../src/domain/admin/csv.js';
import { verifyPassword } from '../../src/domain/accounts/passwords.js';

const knex = () => testDb().knex;
afterAll(() => closeTestDb());
beforeEach(() => resetDb());

const NOW = new Date('2026-11-24T01:00:00Z');
const fastHash = async (p: string) => `plain:${p}`;

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  let opened = false;
  const ctx: CliContext = {
    knex: async () => {
      opened = true;
      return knex();
    },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => NOW,
  };
  return { ctx, out: () => out.join(''), err: () => err.join(''), opened: () => opened };
}

const HEADER = '班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係';
const CLEAN = [
  HEADER,
  '401,四年一班,4,11301101,11,林小安,林大安,父',
  '401,四年一班,4,11301102,12,黃小芸,黃美玲,母',
  '402,四年二班,4,11302101,21,吳小傑,吳志明,',
].join('\r\n');

async function counts() {
  const n = async (t: string, where: Record<string, unknown> = {}) =>
    Number((await knex()(t).where(where).count({ n: '*' }).first())?.n);
  return {
    classes: await n('classes'),
    students: await n('students'),
    guardians: await n('guardians'),
    parents: await n('accounts', { role: 'parent' }),
    links: await n('guardian_students'),
  };
}

async function tmpFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'admin-test-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('CSV import', () => {
  it('imports a clean file: classes, students, guardians and parent accounts with one-time passwords', async () => {
    const schoolId = await createSchool(knex(), { code: '313601', name: '市立忠孝國小' });
    const r = await importRoster(knex(), CLEAN, { schoolId, schoolYear: 115, hash: fastHash });
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.classes).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect(r.students).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(r.guardians).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(await counts()).toEqual({ classes: 2, students: 3, guardians: 3, parents: 3, links: 3 });
    expect(r.accounts.map((a) => a.login)).toEqual(['11301101', '11301102', '11302101']);
    const acc = await knex()('accounts').where({ login: '11301101' }).first();
    expect(acc).toMatchObject({
      role: 'parent',
      school_id: schoolId,
      display_name: '林大安',
      must_change_password: true,
    });
    expect(acc.password_hash).toBe(`plain:${r.accounts[0]!.password}`);
    expect(r.accounts[0]!.password).toMatch(/^.{10}$/);
    const st = await knex()('students').where({ student_number: '11302101' }).first();
    expect(st).toMatchObject({ name: '吳小傑', seat_number: 21 });
    expect(await knex()('audit_log').where({ action: 'admin.import' }).count({ n: '*' }).first()).toMatchObject({
      n: 1,
    });
  });

  it('refuses a file with bad rows: nothing imported, every problem listed with its line number', async () => {
    const schoolId = await createSchool(knex(), { code: '313601' });
    const bad = [
      HEADER,
      '401,四年一班,4,11301101,11,林小安,林大安,父', // line 2: fine
      '401,四年一班,13,1130-1102,0,,黃美玲,母', // line 3: grade, 學號, seat, name
      '402,四年二班,4,11301101,21,吳小傑,吳志明,', // line 4: duplicate 學號
      '401,四年一班,4,11301103,11,陳小美,陳大美,', // line 5: duplicate seat
      '401,四年甲班,4,11301104,14,李小華,李大華,', // line 6: class name differs
      '401,四年一班,4,11301105', // line 7: columns
    ].join('\n');
    const r = await importRoster(knex(), bad, { schoolId, schoolYear: 115, hash: fastHash });
    expect(r.ok).toBe(false);
    const lines = r.problems.map((p) => p.line);
    expect(lines).toEqual([3, 3, 3, 3, 4, 5, 6, 7]);
    expect(r.problems.map((p) => p.message).join('\n')).toContain('年級「13」應為 1 到 12 的數字');
    expect(r.problems.find((p) => p.line === 4)?.message).toContain('學號 11301101 重複（第 2 行已出現）');
    expect(r.problems.find((p) => p.line === 5)?.message).toContain('座號 11 重複');
    expect(r.problems.find((p) => p.line === 7)?.message).toContain('欄位數應為 8');
    expect(await counts()).toEqual({ classes: 0, students: 0, guardians: 0, parents: 0, links: 0 });
  });

  it('re-import updates and never duplicates; moved seats and new names are applied', async () => {
    const schoolId = await createSchool(knex(), { code: '313601' });
    const first = await importRoster(knex(), CLEAN, { schoolId, schoolYear: 115, hash: fastHash });
    const hashBefore = (await knex()('accounts').where({ login: '11301101' }).first()).password_hash;
    const again = await importRoster(knex(), CLEAN, { schoolId, schoolYear: 115, hash: fastHash });
    expect(again.ok).toBe(true);
    expect(again.students).toEqual({ created: 0, updated: 0, unchanged: 3 });
    expect(again.guardians).toEqual({ created: 0, updated: 0, unchanged: 3 });
    expect(again.accounts).toEqual([]);
    expect(await counts()).toEqual({ classes: 2, students: 3, guardians: 3, parents: 3, links: 3 });

    // Seats swapped, a name corrected, a guardian renamed, a class renamed, a new student.
    const changed = [
      HEADER,
      '401,四年1班,4,11301101,12,林小安,林大安,父',
      '401,四年1班,4,11301102,11,黃小芸,黃美鈴,母',
      '402,四年二班,4,11302101,21,吳小杰,吳志明,',
      '402,四年二班,4,11302102,22,周小周,周大周,父',
    ].join('\n');
    const r = await importRoster(knex(), changed, { schoolId, schoolYear: 115, hash: fastHash });
    expect(r.ok).toBe(true);
    expect(r.classes).toEqual({ created: 0, updated: 1, unchanged: 1 });
    expect(r.students).toEqual({ created: 1, updated: 3, unchanged: 0 });
    expect(r.guardians).toEqual({ created: 1, updated: 1, unchanged: 2 });
    expect(r.accounts.map((a) => a.login)).toEqual(['11302102']);
    expect(await counts()).toEqual({ classes: 2, students: 4, guardians: 4, parents: 4, links: 4 });
    const seats = await knex()('students').orderBy('student_number').select('student_number', 'seat_number', 'name');
    expect(seats).toEqual([
      { student_number: '11301101', seat_number: 12, name: '林小安' },
      { student_number: '11301102', seat_number: 11, name: '黃小芸' },
      { student_number: '11302101', seat_number: 21, name: '吳小杰' },
      { student_number: '11302102', seat_number: 22, name: '周小周' },
    ]);
    expect(
      (
        await knex()('guardians')
          .join('accounts', 'accounts.guardian_id', 'guardians.id')
          .where('accounts.login', '11301102')
          .first('guardians.name')
      ).name,
    ).toBe('黃美鈴');
    // Existing accounts keep their password.
    expect((await knex()('accounts').where({ login: '11301101' }).first()).password_hash).toBe(hashBefore);
    expect(first.accounts).toHaveLength(3);
  });

  it('refuses a seat held by a student not in the file', async () => {
    const w = await createSchoolWorld(knex());
    await knex()('schools').where({ id: w.schoolId }).update({ code: '313601' });
    const r = await importRoster(knex(), [HEADER, '401,四年一班,4,11309999,1,新同學,新家長,'].join('\n'), {
      schoolId: w.schoolId,
      schoolYear: 115,
      hash: fastHash,
    });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ line: 2, message: '班級 401 座號 1 已由學號 11301001 使用（該學生不在此檔案中）' }]);
  });

  it('parses quoted fields, a BOM and blank lines', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x,1","y ""q"""\r\n\r\n"多\n行",z\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x,1', 'y "q"'] },
      { line: 4, fields: ['多\n行', 'z'] },
    ]);
    expect(validateRoster('foo,bar\n1,2').problems[0]?.message).toContain('標題列應為');
  });
});

describe('npm run admin', () => {
  it('prints help without opening the database; unknown commands and options are usage errors', async () => {
    const c = cli();
    expect(await runAdmin(['--help'], c.ctx)).toBe(0);
    for (const name of [
      'import',
      'period:create',
      'reader:create',
      'reader:revoke',
      'reader:direction',
      'password:reset',
      'holiday:add',
      'announcement:post',
    ])
      expect(c.out()).toContain(name);
    for (const name of [
      'import',
      'period:create',
      'reader:create',
      'reader:revoke',
      'reader:direction',
      'password:reset',
      'holiday:add',
      'announcement:post',
    ]) {
      const h = cli();
      expect(await runAdmin([name, '--help'], h.ctx)).toBe(0);
      expect(h.out()).toContain('usage: npm run admin -- ');
      expect(h.out()).toContain('example:');
    }
    expect(c.opened()).toBe(false);
    const u = cli();
    expect(await runAdmin(['nope'], u.ctx)).toBe(64);
    expect(await runAdmin(['import', '--bogus'], u.ctx)).toBe(64);
    expect(u.opened()).toBe(false);
  });

  it('import through the CLI: dry run writes nothing; the real run writes passwords to an output CSV', async () => {
    await createSchool(knex(), { code: '313601', name: '市立忠孝國小' });
    const file = await tmpFile('roster.csv', await readFile('docs/examples/roster.csv', 'utf8'));
    const dry = cli();
    expect(await runAdmin(['import', '--school', '313601', '--file', file, '--dry-run'], dry.ctx)).toBe(0);
    expect(dry.out()).toContain('[dry run，未寫入]');
    expect(dry.out()).toContain('學生：新增 3');
    expect(await counts()).toEqual({ classes: 0, students: 0, guardians: 0, parents: 0, links: 0 });

    const out = path.join(path.dirname(file), 'passwords.csv');
    const real = cli();
    expect(
      await runAdmin(
        ['import', '--school', '313601', '--file', file, '--passwords-out', out, '--year', '115'],
        real.ctx,
      ),
    ).toBe(0);
    expect(real.out()).toContain('3 個新家長帳號的一次性密碼已寫入');
    const written = await readFile(out, 'utf8');
    expect(written.startsWith('\uFEFF班級,座號,學生姓名,帳號,一次性密碼\r\n')).toBe(true);
    const [, firstLine] = written.replace(/^\uFEFF/, '').split('\r\n');
    const [, , , login, password] = firstLine!.split(',');
    const acc = await knex()('accounts').where({ login }).first();
    expect(await verifyPassword(password!, acc.password_hash)).toBe(true);
    expect(real.out()).not.toContain(password!);

    const bad = await tmpFile('bad.csv', `${HEADER}\n401,四年一班,4,x-1,1,甲,乙,\n`);
    const b = cli();
    expect(await runAdmin(['import', '--school', '313601', '--file', bad], b.ctx)).toBe(65);
    expect(b.err()).toContain('第 2 行：學號「x-1」格式有誤');
  });

  it('period:create, holiday:add, announcement:post, reader:create/revoke', async () => {
    const schoolId = await createSchool(knex(), { code: '313601', name: '市立忠孝國小' });
    const other = await createSchool(knex(), { code: '413601', name: '市立景美國中', level: 'junior_high' });
    const p = cli();
    const args = [
      'period:create',
      '--school',
      '313601',
      '--name',
      '115學年度下學期',
      '--starts',
      '2027-02-11',
      '--ends',
      '2027-06-30',
      '--arrival-fee',
      '150',
      '--departure-fee',
      '120',
    ];
    expect(await runAdmin([...args, '--dry-run'], p.ctx)).toBe(0);
    expect(await knex()('service_periods').count({ n: '*' }).first()).toMatchObject({ n: 0 });
    expect(await runAdmin(args, p.ctx)).toBe(0);
    expect(await knex()('service_periods').first()).toMatchObject({
      school_id: schoolId,
      name: '115學年度下學期',
      starts_on: '2027-02-11',
      ends_on: '2027-06-30',
      arrival_fee: 150,
      departure_fee: 120,
    });
    const dup = cli();
    expect(await runAdmin(args, dup.ctx)).toBe(65);
    expect(dup.err()).toContain('已有名為');
    const badDate = cli();
    expect(
      await runAdmin(
        [
          'period:create',
          '--school',
          '313601',
          '--name',
          'x',
          '--starts',
          '2027-02-30',
          '--ends',
          '2027-06-30',
          '--arrival-fee',
          '1',
          '--departure-fee',
          '1',
        ],
        badDate.ctx,
      ),
    ).toBe(65);
    expect(badDate.err()).toContain('不是有效的日期');

    const h = cli();
    expect(await runAdmin(['holiday:add', '--all', '--date', '2026-12-25', '--name', '行憲紀念日'], h.ctx)).toBe(0);
    expect(h.out()).toContain('所有學校（2 所）');
    expect(
      await runAdmin(['holiday:add', '--school', '313601', '--date', '2026-12-25', '--name', '聖誕節'], h.ctx),
    ).toBe(0);
    const hol = await knex()('school_holidays').orderBy('school_id').select('school_id', 'name');
    expect(hol).toEqual([
      { school_id: schoolId, name: '聖誕節' },
      { school_id: other, name: '行憲紀念日' },
    ]);

    const a = cli();
    expect(
      await runAdmin(
        ['announcement:post', '--title', '系統維護', '--body', '12/1 晚間維護\n請見 https://example.org', '--pinned'],
        a.ctx,
      ),
    ).toBe(0);
    expect(await knex()('announcements').first()).toMatchObject({
      school_id: null,
      title: '系統維護',
      pinned: true,
      author_name: '臺北市政府教育局',
    });
    // The same text rule as the office's page: Chinese punctuation stays as typed (NFC, not NFKC).
    const punct = cli();
    expect(
      await runAdmin(
        ['announcement:post', '--title', '寒假通知（重要）', '--body', '寒假期間：不發送簡訊，請家長留意。'],
        punct.ctx,
      ),
    ).toBe(0);
    expect(await knex()('announcements').where({ title: '寒假通知（重要）' }).first()).toMatchObject({
      body: '寒假期間：不發送簡訊，請家長留意。',
    });
    const empty = cli();
    expect(await runAdmin(['announcement:post', '--title', '空白', '--body', '   '], empty.ctx)).toBe(65);
    expect(empty.err()).toContain('內容必填');
    expect(await knex()('announcements').where({ title: '空白' }).first()).toBeUndefined();

    const r = cli();
    expect(await runAdmin(['reader:create', '--school', '313601', '--name', '正門'], r.ctx)).toBe(0);
    const token = r.out().trim().split('\n').pop()!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const reader = await knex()('card_readers').first();
    expect(reader.token_hash).not.toBe(token);
    const rv = cli();
    expect(await runAdmin(['reader:revoke', '--school', '313601', '--name', '正門', '--dry-run'], rv.ctx)).toBe(0);
    expect((await knex()('card_readers').first()).revoked_at).toBeNull();
    expect(await runAdmin(['reader:revoke', '--school', '313601', '--name', '正門'], rv.ctx)).toBe(0);
    expect((await knex()('card_readers').first()).revoked_at).not.toBeNull();
    const missing = cli();
    expect(await runAdmin(['reader:revoke', '--school', '313601', '--name', '正門'], missing.ctx)).toBe(65);
    const actions = await knex()('audit_log').orderBy('id').pluck('action');
    expect(actions).toEqual([
      'period.created',
      'holiday.added',
      'holiday.added',
      'announcement.created',
      'announcement.created',
      'reader.created',
      'reader.revoked',
    ]);
  });

  it('holiday:add takes a range with --from/--to through addHolidayRange; a dry run and bad input write nothing', async () => {
    const schoolId = await createSchool(knex(), { code: '313601', name: '市立忠孝國小' });
    const range = ['holiday:add', '--school', '313601', '--from', '2027-01-21', '--to', '2027-02-10', '--name', '寒假'];
    const dry = cli();
    expect(await runAdmin([...range, '--dry-run'], dry.ctx)).toBe(0);
    expect(dry.out()).toContain(
      '[dry run，未寫入] 市立忠孝國小：2027-01-21~2027-02-10（21 天） 寒假，新增 1、更新名稱 0',
    );
    expect(await knex()('school_holiday_ranges').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await knex()('audit_log').count({ n: '*' }).first()).toEqual({ n: 0 });

    const real = cli();
    expect(await runAdmin(range, real.ctx)).toBe(0);
    expect(await knex()('school_holiday_ranges').select('school_id', 'starts_on', 'ends_on', 'name')).toEqual([
      { school_id: schoolId, starts_on: '2027-01-21', ends_on: '2027-02-10', name: '寒假' },
    ]);
    expect(await knex()('school_holidays').count({ n: '*' }).first()).toEqual({ n: 21 });
    const log = await knex()('audit_log').where({ action: 'holiday.added' }).first();
    expect(log).toMatchObject({ actor_account_id: null, school_id: schoolId });
    expect(log.details).toMatchObject({ via: 'admin script', from: '2027-01-21', to: '2027-02-10', name: '寒假' });

    const before = await knex()('school_holidays').count({ n: '*' }).first();
    const cases: [string[], number, string][] = [
      [['--from', '2027-02-01', '--to', '2027-02-05', '--name', '春假'], 65, '重疊'],
      [['--from', '2027-03-10', '--to', '2027-03-01', '--name', '春假'], 65, '結束日期不可早於開始日期'],
      [['--from', '2027-03-01', '--to', '2028-03-10', '--name', '長假'], 65, '一個假期最多 366 天'],
      [['--from', '2027-03-01', '--name', '春假'], 64, '缺少參數：--to'],
      [
        ['--date', '2027-03-01', '--from', '2027-03-01', '--to', '2027-03-02', '--name', '春假'],
        64,
        '--date 與 --from/--to 只能擇一',
      ],
      [['--from', '2027-02-30', '--to', '2027-03-02', '--name', '春假'], 65, '不是有效的日期'],
    ];
    for (const [args, code, message] of cases) {
      const c = cli();
      expect(await runAdmin(['holiday:add', '--school', '313601', ...args], c.ctx)).toBe(code);
      expect(c.err()).toContain(message);
    }
    expect(await knex()('school_holidays').count({ n: '*' }).first()).toEqual(before);
    expect(await knex()('audit_log').count({ n: '*' }).first()).toEqual({ n: 1 });
  });

  it('reader:create takes --direction (default both) and reader:direction changes it, audited; a bad direction writes nothing', async () => {
    await createSchool(knex(), { code: '313601', name: '市立忠孝國小' });
    const c = cli();
    expect(await runAdmin(['reader:create', '--school', '313601', '--name', '正門'], c.ctx)).toBe(0);
    expect(c.out()).toContain('方向 both（進出）');
    expect(
      await runAdmin(['reader:create', '--school', '313601', '--name', '側門出口', '--direction', 'out'], c.ctx),
    ).toBe(0);
    expect(await knex()('card_readers').orderBy('id').select('name', 'direction')).toEqual([
      { name: '正門', direction: 'both' },
      { name: '側門出口', direction: 'out' },
    ]);

    const bad = cli();
    expect(
      await runAdmin(['reader:create', '--school', '313601', '--name', '後門', '--direction', 'sideways'], bad.ctx),
    ).toBe(64);
    expect(bad.err()).toContain('刷卡機方向應為 in（進校）、out（離校）、both（進出）');
    expect(bad.opened()).toBe(false);
    expect(
      await runAdmin(['reader:direction', '--school', '313601', '--name', '正門', '--direction', 'IN'], bad.ctx),
    ).toBe(64);
    expect(await runAdmin(['reader:direction', '--school', '313601', '--name', '正門'], bad.ctx)).toBe(64);
    expect(
      await runAdmin(['reader:direction', '--school', '313601', '--name', '後門', '--direction', 'in'], bad.ctx),
    ).toBe(65);
    expect(bad.err()).toContain('沒有使用中、名為「後門」的刷卡機');
    expect(await knex()('card_readers').count({ n: '*' }).first()).toEqual({ n: 2 });

    const dry = cli();
    expect(
      await runAdmin(
        ['reader:direction', '--school', '313601', '--name', '正門', '--direction', 'in', '--dry-run'],
        dry.ctx,
      ),
    ).toBe(0);
    expect(dry.out()).toContain('將把刷卡機「正門」的方向由 both（進出） 改為 in（進校）');
    expect((await knex()('card_readers').where({ name: '正門' }).first()).direction).toBe('both');

    const ch = cli();
    expect(
      await runAdmin(['reader:direction', '--school', '313601', '--name', '正門', '--direction', 'in'], ch.ctx),
    ).toBe(0);
    expect(ch.out()).toContain('方向已由 both（進出） 改為 in（進校）');
    expect((await knex()('card_readers').where({ name: '正門' }).first()).direction).toBe('in');
    const logs = await knex()('audit_log').orderBy('id').select('action', 'details');
    expect(logs.map((l) => l.action)).toEqual(['reader.created', 'reader.created', 'reader.direction_changed']);
    expect(logs[1].details).toMatchObject({ name: '側門出口', direction: 'out' });
    expect(logs[2].details).toMatchObject({ via: 'admin script', name: '正門', from: 'both', to: 'in' });
  });

  it('card:issue gives a student a card (ending the old one) and card:retire stops it; audited', async () => {
    const schoolId = await createSchool(knex(), { code: '313601' });
    const cls = await createClass(knex(), schoolId);
    const st = await createStudent(knex(), cls, { studentNumber: '11301001', name: '王小明' });
    const dry = cli();
    expect(
      await runAdmin(
        [
          'card:issue',
          '--school',
          '313601',
          '--student',
          '11301001',
          '--card',
          'aa11',
          '--from',
          '2026-09-01',
          '--dry-run',
        ],
        dry.ctx,
      ),
    ).toBe(0);
    expect(await knex()('cards').count('* as n').first()).toEqual({ n: 0 });
    const first = cli();
    expect(
      await runAdmin(
        ['card:issue', '--school', '313601', '--student', '11301001', '--card', 'aa11', '--from', '2026-09-01'],
        first.ctx,
      ),
    ).toBe(0);
    const second = cli();
    expect(
      await runAdmin(
        ['card:issue', '--school', '313601', '--student', '１１３０１００１', '--card', 'BB22', '--from', '2026-11-20'],
        second.ctx,
      ),
    ).toBe(0);
    expect(second.out()).toContain('結束舊卡 1 張');
    expect(await knex()('cards').orderBy('id').select('card_uid', 'student_id', 'valid_from', 'valid_until')).toEqual([
      { card_uid: 'AA11', student_id: st, valid_from: '2026-09-01', valid_until: '2026-11-19' },
      { card_uid: 'BB22', student_id: st, valid_from: '2026-11-20', valid_until: null },
    ]);
    const unknown = cli();
    expect(
      await runAdmin(['card:issue', '--school', '313601', '--student', '99999999', '--card', 'CC33'], unknown.ctx),
    ).toBe(65);
    expect(unknown.err()).toContain('沒有學號 99999999 的學生');
    const retire = cli();
    expect(
      await runAdmin(['card:retire', '--school', '313601', '--card', 'bb22', '--last-date', '2026-11-23'], retire.ctx),
    ).toBe(0);
    expect(await knex()('cards').where({ card_uid: 'BB22' }).first('valid_until')).toEqual({
      valid_until: '2026-11-23',
    });
    const again = cli();
    expect(await runAdmin(['card:retire', '--school', '313601', '--card', 'BB22'], again.ctx)).toBe(65);
    expect(await knex()('audit_log').orderBy('id').pluck('action')).toEqual([
      'card.issued',
      'card.issued',
      'card.retired',
    ]);
  });

  it('password:reset prints a one-time password once, sets must-change and ends sessions; audited', async () => {
    const schoolId = await createSchool(knex(), { code: '313601' });
    const cls = await createClass(knex(), schoolId);
    const st = await createStudent(knex(), cls, { studentNumber: '11301001' });
    const parent = await createParent(knex(), [st]);
    await knex()('accounts')
      .where({ id: parent.accountId })
      .update({ failed_logins: 5, locked_until: new Date('2026-11-24T02:00:00Z') });
    await knex()('session').insert({
      sid: 'abc',
      sess: JSON.stringify({ accountId: parent.accountId }),
      expire: new Date('2026-11-25T00:00:00Z'),
    });
    const dry = cli();
    expect(
      await runAdmin(
        ['password:reset', '--school', '313601', '--role', 'parent', '--login', '11301001', '--dry-run'],
        dry.ctx,
      ),
    ).toBe(0);
    expect((await knex()('accounts').where({ id: parent.accountId }).first()).must_change_password).toBe(false);
    const c = cli();
    expect(
      await runAdmin(['password:reset', '--school', '313601', '--role', 'parent', '--login', '11301001'], c.ctx),
    ).toBe(0);
    const pw = /一次性密碼（只顯示這一次，首次登入必須變更）：(\S+)/.exec(c.out())?.[1];
    expect(pw).toBeDefined();
    const acc = await knex()('accounts').where({ id: parent.accountId }).first();
    expect(acc).toMatchObject({ must_change_password: true, failed_logins: 0, locked_until: null });
    expect(await verifyPassword(pw!, acc.password_hash)).toBe(true);
    expect(await knex()('session').count({ n: '*' }).first()).toMatchObject({ n: 0 });
    const log = await knex()('audit_log').where({ action: 'password.reset' }).first();
    expect(JSON.stringify(log.details)).not.toContain(pw!);
    const none = cli();
    expect(
      await runAdmin(['password:reset', '--school', '313601', '--role', 'teacher', '--login', 'nobody'], none.ctx),
    ).toBe(65);
    expect(none.err()).toContain('找不到帳號');
    const miss = cli();
    expect(await runAdmin(['password:reset', '--school', '313601'], miss.ctx)).toBe(64);
  });
});
