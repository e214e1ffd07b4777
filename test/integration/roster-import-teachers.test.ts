/**
 * The roster import in one pass: format errors, conflicts inside the file and conflicts with the database are
 * all listed at once with their line numbers, and nothing is written; the optional 導師帳號 column assigns each
 * class's 導師; the passwords file is 班級, 座號, 學生姓名, 帳號, 一次性密碼 sorted by class and seat.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { importRoster } from '../../src/domain/admin/import-roster.js';
import { runAdminCommand } from '../support/admin-cli.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { createSchool, createSchoolWorld, createStaff, createStudent, createParent } from '../support/factories.js';

const knex = () => testDb().knex;
afterAll(() => closeTestDb());
beforeEach(() => resetDb());

const fastHash = async (p: string) => `plain:${p}`;
const HEADER = '班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係,導師帳號';

async function snapshot() {
  return {
    classes: await knex()('classes').orderBy('id').select(),
    students: await knex()('students').orderBy('id').select(),
    guardians: await knex()('guardians').orderBy('id').select('id', 'name'),
    accounts: await knex()('accounts').orderBy('id').select('id', 'login', 'display_name', 'password_hash'),
    classTeachers: await knex()('class_teachers').orderBy(['class_id', 'role']).select(),
    audit: await knex()('audit_log').count({ n: '*' }).first(),
  };
}

describe('roster import: every problem in one pass', () => {
  it('a file with one problem of each kind lists them all, each with its line number, and writes nothing', async () => {
    // The database: 王小明 (11301001, 401 seat 1, parent 王大明) and 陳小美 (11301002, 401 seat 2); t401 teaches 401.
    const w = await createSchoolWorld(knex());
    const chen = await createStudent(knex(), w.class401, { name: '陳小美', studentNumber: '11301002', seat: 2 });
    await createParent(knex(), [chen], { name: '陳媽媽' });
    const other = await createSchool(knex(), { name: '市立景美國中', level: 'junior_high' });
    await createStaff(knex(), other, { login: 't701', name: '景美老師' });
    const before = await snapshot();

    const file = [
      HEADER, // 1
      '401,四年一班,4,11301003,3,林小安,林大安,父,t401', // 2: fine
      '401,四年一班,4,11301004,0,黃小芸,黃美玲,母,t401', // 3: format (座號 0)
      '401,四年一班,4,11301005,5,吳小傑', // 4: format (columns)
      '401,四年一班,4,11301003,6,周小周,周大周,父,t401', // 5: in the file: 學號 repeated
      '401,四年一班,4,11301007,3,李小李,李大李,母,t401', // 6: in the file: seat repeated
      '401,四年甲班,4,11301008,8,張小張,張大張,父,t401', // 7: in the file: class name differs
      '401,四年一班,4,11301009,9,趙小趙,趙大趙,父,t402', // 8: in the file: another 導師帳號 for 401
      '401,四年一班,4,11301001,1,楊小楊,楊大楊,父,t401', // 9: database: 學號 of another student (王小明)
      '401,四年一班,4,11301010,2,鄭小鄭,鄭大鄭,母,t401', // 10: database: seat 2 held by 陳小美, not in the file
      '402,四年二班,4,11302010,1,孫小孫,孫大孫,父,t701', // 11: database: a teacher of another school
      '403,四年三班,4,11303010,1,錢小錢,錢大錢,母,admin', // 12: database: a school admin, not a teacher
      '404,四年四班,4,11304010,1,馮小馮,馮大馮,母,nobody', // 13: database: no such account
    ].join('\r\n');
    const r = await importRoster(knex(), file, { schoolId: w.schoolId, schoolYear: 115, hash: fastHash });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      { line: 3, message: '座號「0」應為 1 到 99 的數字' },
      { line: 4, message: '欄位數應為 9，此列有 6 欄' },
      { line: 5, message: '學號 11301003 重複（第 2 行已出現）' },
      { line: 6, message: '班級 401 座號 3 重複（第 2 行已出現）' },
      { line: 7, message: '班級 401 的名稱或年級與第 2 行不同' },
      { line: 8, message: '班級 401 的導師帳號 t402 與第 2 行的 t401 不同（一個班級只有一位導師）' },
      { line: 9, message: '學號 11301001 已屬於另一位學生「王小明」（家長 王大明），與此列的學生姓名及家長姓名都不同' },
      { line: 10, message: '班級 401 座號 2 已由學號 11301002 使用（該學生不在此檔案中）' },
      { line: 11, message: '導師帳號：帳號 t701 不是本校的教師帳號（請先以 staff:create 建立）' },
      { line: 12, message: '導師帳號：帳號 admin 是學校管理者，不是教師' },
      { line: 13, message: '導師帳號：帳號 nobody 不是本校的教師帳號（請先以 staff:create 建立）' },
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('through the CLI: every problem on stderr with its line, exit 65, nothing written', async () => {
    const w = await createSchoolWorld(knex());
    await knex()('schools').where({ id: w.schoolId }).update({ code: '313601' });
    const before = await snapshot();
    const dir = await mkdtemp(path.join(tmpdir(), 'import-'));
    const file = path.join(dir, 'roster.csv');
    await writeFile(
      file,
      [
        HEADER,
        '401,四年一班,4,x-1,1,甲,乙,,t401',
        '401,四年一班,4,11301001,1,楊小楊,楊大楊,父,t401',
        '402,四年二班,4,11302009,9,丙,丁,,t999',
      ].join('\n'),
    );
    const r = await runAdminCommand(knex(), ['import', '--school', '313601', '--file', file, '--year', '115']);
    expect(r.code).toBe(65);
    expect(r.err).toContain('檔案有 3 個問題，沒有匯入任何資料');
    expect(r.err).toContain('第 2 行：學號「x-1」格式有誤');
    expect(r.err).toContain('第 3 行：學號 11301001 已屬於另一位學生「王小明」');
    expect(r.err).toContain('第 4 行：導師帳號：帳號 t999 不是本校的教師帳號');
    expect(await snapshot()).toEqual(before);
  });

  it("a correction of the student's name alone (or the guardian's alone) is not a conflict", async () => {
    const w = await createSchoolWorld(knex());
    const r = await importRoster(knex(), [HEADER, '401,四年一班,4,11301001,1,王小名,王大明,父,'].join('\n'), {
      schoolId: w.schoolId,
      schoolYear: 115,
      hash: fastHash,
    });
    expect(r.problems).toEqual([]);
    expect(r.students.updated).toBe(1);
    expect((await knex()('students').where({ id: w.student }).first('name')).name).toBe('王小名');
  });
});

describe('roster import: 導師帳號', () => {
  it("assigns each class's 導師 (replacing the previous one), audited; a blank cell or no column leaves it; a dry run writes nothing", async () => {
    const schoolId = await createSchool(knex(), { code: '313601' });
    await createStaff(knex(), schoolId, { login: 't101', name: '陳老師' });
    await createStaff(knex(), schoolId, { login: 't102', name: '黃老師' });
    const file = [
      HEADER,
      '101,一年一班,1,11510101,1,蔡小安,蔡志明,父,t101',
      '101,一年一班,1,11510102,2,許小晴,許雅婷,母,',
      '102,一年二班,1,11510201,1,周小宇,周大宇,父,t102',
    ].join('\n');
    const homerooms = async () =>
      knex()('class_teachers as ct')
        .join('classes as c', 'c.id', 'ct.class_id')
        .join('accounts as a', 'a.id', 'ct.account_id')
        .orderBy('c.code')
        .select('c.code', 'a.login', 'ct.role');

    const dry = await importRoster(knex(), file, { schoolId, schoolYear: 115, hash: fastHash, dryRun: true });
    expect(dry.ok).toBe(true);
    expect(dry.teachers).toEqual({ assigned: 2, unchanged: 0 });
    expect(await homerooms()).toEqual([]);

    const r = await importRoster(knex(), file, { schoolId, schoolYear: 115, hash: fastHash });
    expect(r.teachers).toEqual({ assigned: 2, unchanged: 0 });
    expect(await homerooms()).toEqual([
      { code: '101', login: 't101', role: 'homeroom' },
      { code: '102', login: 't102', role: 'homeroom' },
    ]);
    expect(await knex()('audit_log').where({ action: 'class_teacher.assigned' }).count({ n: '*' }).first()).toEqual({
      n: 2,
    });

    // Swap the two teachers; then a file without the column changes nothing.
    const swapped = file.replace(',t101', ',tXXX').replace(',t102', ',t101').replace(',tXXX', ',t102');
    const again = await importRoster(knex(), swapped, { schoolId, schoolYear: 115, hash: fastHash });
    expect(again.teachers).toEqual({ assigned: 2, unchanged: 0 });
    expect(await homerooms()).toEqual([
      { code: '101', login: 't102', role: 'homeroom' },
      { code: '102', login: 't101', role: 'homeroom' },
    ]);
    const noColumn = [
      '班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係',
      '101,一年一班,1,11510101,1,蔡小安,蔡志明,父',
    ].join('\n');
    const plain = await importRoster(knex(), noColumn, { schoolId, schoolYear: 115, hash: fastHash });
    expect(plain.ok).toBe(true);
    expect(plain.teachers).toEqual({ assigned: 0, unchanged: 0 });
    expect(await homerooms()).toHaveLength(2);
  });
});

describe('the passwords file', () => {
  it('has 班級, 座號, 學生姓名, 帳號, 一次性密碼, sorted by class and seat (numerically), one line per new parent account', async () => {
    await createSchool(knex(), { code: '313601' });
    const dir = await mkdtemp(path.join(tmpdir(), 'import-'));
    const roster = path.join(dir, 'roster.csv');
    await writeFile(
      roster,
      [
        '班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係',
        '1001,十年一班,10,11410001,1,高一甲,高家長,父',
        '402,四年二班,4,11302110,10,甲同學,甲家長,父',
        '401,四年一班,4,11301102,12,乙同學,乙家長,母',
        '402,四年二班,4,11302102,2,丙同學,丙家長,母',
        '401,四年一班,4,11301101,3,丁同學,丁家長,父',
      ].join('\n'),
    );
    const out = path.join(dir, 'passwords.csv');
    const r = await runAdminCommand(knex(), [
      'import',
      '--school',
      '313601',
      '--file',
      roster,
      '--year',
      '115',
      '--passwords-out',
      out,
    ]);
    expect(r.code).toBe(0);
    const raw = await readFile(out, 'utf8');
    expect(raw.startsWith('\uFEFF')).toBe(true);
    const lines = raw
      .slice(1)
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(','));
    expect(lines[0]).toEqual(['班級', '座號', '學生姓名', '帳號', '一次性密碼']);
    expect(lines.slice(1).map((l) => l.slice(0, 4))).toEqual([
      ['四年一班', '3', '丁同學', '11301101'],
      ['四年一班', '12', '乙同學', '11301102'],
      ['四年二班', '2', '丙同學', '11302102'],
      ['四年二班', '10', '甲同學', '11302110'],
      ['十年一班', '1', '高一甲', '11410001'],
    ]);
    for (const l of lines.slice(1)) expect(l[4]).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(r.out).not.toContain(lines[1]![4]!);

    // Without --passwords-out the same columns and order are printed once.
    const again = path.join(dir, 'more.csv');
    await writeFile(
      again,
      [
        '班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係',
        '401,四年一班,4,11301105,5,戊同學,戊家長,父',
        '401,四年一班,4,11301104,4,己同學,己家長,母',
      ].join('\n'),
    );
    const printed = await runAdminCommand(knex(), ['import', '--school', '313601', '--file', again, '--year', '115']);
    expect(printed.code).toBe(0);
    expect(printed.out).toMatch(
      /班級\t座號\t學生姓名\t帳號\t一次性密碼\n\s+四年一班\t4\t己同學\t11301104\t\S{10}\n\s+四年一班\t5\t戊同學\t11301105\t\S{10}\n/,
    );
  });
});
