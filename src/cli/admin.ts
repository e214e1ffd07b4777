/**
 * `npm run admin -- <command> [options]`: the system administrator's commands — their arguments, output and exit
 * codes. The operations are the domain's (src/domain/admin/ and each noun's module; `demo:city` is src/dev/'s).
 * Tests run it without spawning a process; scripts/admin.ts only opens the database.
 */
import { LEVEL_LABELS, LEVELS, ROLE_LABELS } from '../domain/vocabulary.js';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Knex } from 'knex';
import {
  createReader,
  DIRECTION_HELP,
  isReaderDirection,
  revokeReader,
  ReaderError,
  readerNamed,
  setReaderDirection,
} from '../domain/readers/reader-tokens.js';
import { READER_DIRECTION_LABELS, type ReaderDirection } from '../domain/attendance/rules.js';
import {
  CardError,
  issueCard,
  normaliseCardUid,
  openCardOfSchool,
  retireSchoolCard,
  studentOfSchool,
} from '../domain/swipes/cards.js';
import { addDays, isValidDate, schoolYearOf, taipeiDate } from '../domain/time.js';
import { addHoliday, auditAdmin, createPeriod, postAnnouncement, resetPassword } from '../domain/admin/commands.js';
import { SCRIPT_ACTOR } from '../domain/audit.js';
import { csvDocument } from '../domain/csv.js';
import { importRoster, PASSWORD_FILE_COLUMNS } from '../domain/admin/import-roster.js';
import { assignClassTeacher, createStaffAccount, disableStaffAccount } from '../domain/admin/staff.js';
import { AdminError, allSchoolIds, resolveSchool, UsageError } from '../domain/admin/schools.js';
import { buildCity, realDataProblem, type CityStep } from '../dev/demo-city.js';
import { rebuildFiguresCommand } from '../domain/admin/figures.js';
import { hashPassword } from '../domain/accounts/passwords.js';
import { DEMO_PASSWORD } from '../../seeds/02_demo.js';

export interface CliContext {
  /** Opened only when a command needs it (never for --help). */
  knex: () => Promise<Knex>;
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => Date;
  /** NODE_ENV is production (commands that make demo data refuse). */
  production?: boolean;
}

type Options = NonNullable<ParseArgsConfig['options']>;

interface Command {
  summary: string;
  usage: string;
  example: string;
  options: Options;
  run(ctx: CliContext, v: Record<string, string | boolean | undefined>, dryRun: boolean): Promise<number>;
}

const common: Options = { help: { type: 'boolean', short: 'h' }, 'dry-run': { type: 'boolean' } };
const school: Options = { school: { type: 'string' }, level: { type: 'string' } };

function need(v: Record<string, unknown>, ...names: string[]): void {
  const missing = names.filter((n) => typeof v[n] !== 'string' || v[n] === '');
  if (missing.length > 0) throw new AdminError(`缺少參數：${missing.map((m) => `--${m}`).join(' ')}`);
}
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const prefix = (dry: boolean) => (dry ? '[dry run，未寫入] ' : '');

/** --direction in|out|both, checked before the database is opened (a bad one is a usage error). */
function directionOf(v: Record<string, unknown>, fallback?: ReaderDirection): ReaderDirection {
  const d = v.direction ?? fallback;
  if (!isReaderDirection(d)) throw new UsageError(`${DIRECTION_HELP}，收到「${str(d)}」`);
  return d;
}
const directionText = (d: ReaderDirection) => `${d}（${READER_DIRECTION_LABELS[d]}）`;

async function schoolOf(ctx: CliContext, v: Record<string, unknown>) {
  need(v, 'school');
  return resolveSchool(await ctx.knex(), str(v.school), typeof v.level === 'string' ? v.level : undefined);
}

export const COMMANDS: Record<string, Command> = {
  import: {
    summary:
      '從 CSV 匯入班級、學生、家長與家長帳號，可選的「導師帳號」欄指派導師（先一次列出所有問題；有錯則完全不匯入）',
    usage:
      'import --school <學校代碼> [--level <級別>] --file <CSV> [--year <學年度>] [--passwords-out <CSV>] [--dry-run]\n\n' +
      '  標題列：班級代碼,班級名稱,年級,學號,座號,學生姓名,家長姓名,關係[,導師帳號]\n' +
      '  導師帳號（可省略）是本校的教師帳號（先以 staff:create 建立），同一班級的每一列須相同。\n' +
      '  --passwords-out 寫出新家長帳號的一次性密碼檔（班級,座號,學生姓名,帳號,一次性密碼；依班級與座號排序，可印成發放單）。',
    example:
      'npm run admin -- import --school 353607 --level elementary --file docs/examples/roster.csv --passwords-out passwords.csv',
    options: {
      ...common,
      ...school,
      file: { type: 'string' },
      year: { type: 'string' },
      'passwords-out': { type: 'string' },
    },
    async run(ctx, v, dry) {
      need(v, 'file');
      const sc = await schoolOf(ctx, v);
      const year = v.year === undefined ? schoolYearOf(taipeiDate(ctx.now())) : Number(v.year);
      if (!Number.isInteger(year) || year < 100 || year > 200) throw new AdminError(`學年度有誤：${str(v.year)}`);
      const text = await readFile(str(v.file), 'utf8');
      const r = await importRoster(await ctx.knex(), text, { schoolId: sc.id, schoolYear: year, dryRun: dry });
      if (!r.ok) {
        ctx.err(`檔案有 ${r.problems.length} 個問題，沒有匯入任何資料：\n`);
        for (const p of r.problems) ctx.err(`  第 ${p.line} 行：${p.message}\n`);
        return 65;
      }
      const c = (x: { created: number; updated: number; unchanged: number }) =>
        `新增 ${x.created}、更新 ${x.updated}、未變更 ${x.unchanged}`;
      ctx.out(`${prefix(dry)}${sc.name}（${sc.code}）${year} 學年度：讀取 ${r.rows} 列\n`);
      ctx.out(`  班級：${c(r.classes)}\n  學生：${c(r.students)}\n  家長與家長帳號：${c(r.guardians)}\n`);
      if (r.teachers.assigned + r.teachers.unchanged > 0)
        ctx.out(`  導師：指派 ${r.teachers.assigned}、未變更 ${r.teachers.unchanged}\n`);
      if (r.accounts.length > 0) {
        const outFile = typeof v['passwords-out'] === 'string' ? v['passwords-out'] : undefined;
        if (outFile) {
          const lines = [
            [...PASSWORD_FILE_COLUMNS],
            ...r.accounts.map((a) => [a.className, a.seat, a.studentName, a.login, a.password]),
          ];
          await writeFile(outFile, csvDocument(lines), { mode: 0o600, flag: 'wx' });
          ctx.out(
            `  ${r.accounts.length} 個新家長帳號的一次性密碼已寫入 ${outFile}（首次登入必須變更密碼；請妥善保管並於發放後刪除）\n`,
          );
        } else {
          ctx.out(`  新家長帳號的一次性密碼（只顯示這一次，首次登入必須變更密碼）：\n`);
          ctx.out(`    ${PASSWORD_FILE_COLUMNS.join('\t')}\n`);
          for (const a of r.accounts)
            ctx.out(`    ${a.className}\t${a.seat}\t${a.studentName}\t${a.login}\t${a.password}\n`);
        }
      }
      return 0;
    },
  },
  'staff:create': {
    summary: '建立教職員帳號：教師（teacher）或學校管理者（school_admin）；一次性密碼只顯示一次，首次登入必須變更',
    usage:
      'staff:create --school <學校代碼> [--level <級別>] --role teacher|school_admin --login <帳號> --name <姓名> [--dry-run]',
    example:
      'npm run admin -- staff:create --school 353607 --level elementary --role teacher --login t101 --name 陳老師',
    options: { ...common, ...school, role: { type: 'string' }, login: { type: 'string' }, name: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'role', 'login', 'name');
      const sc = await schoolOf(ctx, v);
      const r = await createStaffAccount(await ctx.knex(), {
        schoolId: sc.id,
        role: str(v.role),
        login: str(v.login),
        name: str(v.name),
        now: ctx.now(),
        dryRun: dry,
      });
      const what = `${ROLE_LABELS[r.role]}帳號 ${r.login}（${r.name}）`;
      if (dry) {
        ctx.out(`${prefix(dry)}${sc.name}：將建立${what}\n`);
        return 0;
      }
      ctx.out(`${sc.name}：已建立${what}\n`);
      ctx.out(`一次性密碼（只顯示這一次，首次登入必須變更）：${r.password}\n`);
      return 0;
    },
  },
  'staff:disable': {
    summary: '停用教職員帳號（無法再登入，登入中的工作階段立即結束；其班級顯示為尚無導師）',
    usage: 'staff:disable --school <學校代碼> [--level <級別>] --login <帳號> [--dry-run]',
    example: 'npm run admin -- staff:disable --school 353607 --level elementary --login t101',
    options: { ...common, ...school, login: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'login');
      const sc = await schoolOf(ctx, v);
      const r = await disableStaffAccount(await ctx.knex(), {
        schoolId: sc.id,
        login: str(v.login),
        now: ctx.now(),
        dryRun: dry,
      });
      const who = `${str(v.login).trim()}（${r.name}）`;
      const classes =
        r.classes > 0 ? `；其 ${r.classes} 個班級將顯示為尚無導師，請以 class:assign-teacher 指派新導師` : '';
      ctx.out(
        dry
          ? `${prefix(dry)}${sc.name}：將停用帳號 ${who}${classes}\n`
          : `${sc.name}：已停用帳號 ${who}，結束 ${r.sessionsEnded} 個登入中的工作階段${classes}\n`,
      );
      return 0;
    },
  },
  'class:assign-teacher': {
    summary: '指派班級的導師（或以 --deputy 指派副導師，兩者都能審核）；取代原本的人選，--remove 則移除',
    usage:
      'class:assign-teacher --school <學校代碼> [--level <級別>] --class <班級代碼> (--teacher <教師帳號> | --remove) [--deputy] [--year <學年度>] [--dry-run]',
    example: 'npm run admin -- class:assign-teacher --school 353607 --level elementary --class 101 --teacher t101',
    options: {
      ...common,
      ...school,
      class: { type: 'string' },
      teacher: { type: 'string' },
      deputy: { type: 'boolean' },
      remove: { type: 'boolean' },
      year: { type: 'string' },
    },
    async run(ctx, v, dry) {
      need(v, 'class');
      if (v.remove === true && v.teacher !== undefined) throw new UsageError('--teacher 與 --remove 只能擇一');
      if (v.remove !== true) need(v, 'teacher');
      const year = v.year === undefined ? schoolYearOf(taipeiDate(ctx.now())) : Number(v.year);
      if (!Number.isInteger(year) || year < 100 || year > 200) throw new UsageError(`學年度有誤：${str(v.year)}`);
      const sc = await schoolOf(ctx, v);
      const r = await assignClassTeacher(await ctx.knex(), {
        schoolId: sc.id,
        schoolYear: year,
        classCode: str(v.class),
        login: typeof v.teacher === 'string' ? v.teacher : undefined,
        deputy: v.deputy === true,
        remove: v.remove === true,
        dryRun: dry,
      });
      if (!r.changed) ctx.out(`${sc.name}：${r.className}的${r.roleLabel}已是 ${r.teacher}，未變更\n`);
      else if (r.teacher === null)
        ctx.out(`${prefix(dry)}${sc.name}：${dry ? '將移除' : '已移除'}${r.className}的${r.roleLabel} ${r.previous}\n`);
      else
        ctx.out(
          `${prefix(dry)}${sc.name}：${r.className}的${r.roleLabel}${dry ? '將' : '已'}設為 ${r.teacher}${r.previous ? `（取代 ${r.previous}）` : ''}\n`,
        );
      return 0;
    },
  },
  'period:create': {
    summary: '建立學校的簡訊服務期間與費用',
    usage:
      'period:create --school <學校代碼> [--level <級別>] --name <名稱> --starts <YYYY-MM-DD> --ends <YYYY-MM-DD> --arrival-fee <元> --departure-fee <元> [--dry-run]',
    example:
      'npm run admin -- period:create --school 353607 --level elementary --name 115學年度下學期 --starts 2027-02-11 --ends 2027-06-30 --arrival-fee 150 --departure-fee 150',
    options: {
      ...common,
      ...school,
      name: { type: 'string' },
      starts: { type: 'string' },
      ends: { type: 'string' },
      'arrival-fee': { type: 'string' },
      'departure-fee': { type: 'string' },
    },
    async run(ctx, v, dry) {
      need(v, 'name', 'starts', 'ends', 'arrival-fee', 'departure-fee');
      const sc = await schoolOf(ctx, v);
      const p = await createPeriod(await ctx.knex(), {
        schoolId: sc.id,
        name: str(v.name),
        startsOn: str(v.starts),
        endsOn: str(v.ends),
        arrivalFee: str(v['arrival-fee']),
        departureFee: str(v['departure-fee']),
        dryRun: dry,
      });
      ctx.out(
        `${prefix(dry)}${sc.name}：簡訊服務「${p.name}」${p.startsOn}~${p.endsOn}，到校SMS NT$${p.arrivalFee}，離校SMS NT$${p.departureFee}${p.id ? `（編號 ${p.id}）` : ''}\n`,
      );
      return 0;
    },
  },
  'reader:create': {
    summary: '建立刷卡機並產生其權杖（只顯示一次）；方向 in 進校、out 離校、both 進出（預設）',
    usage:
      'reader:create --school <學校代碼> [--level <級別>] --name <刷卡機名稱> [--direction in|out|both] [--dry-run]',
    example: 'npm run admin -- reader:create --school 353607 --level elementary --name 側門出口 --direction out',
    options: { ...common, ...school, name: { type: 'string' }, direction: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'name');
      const direction = directionOf(v, 'both');
      const sc = await schoolOf(ctx, v);
      const knex = await ctx.knex();
      if (dry) {
        const exists = await readerNamed(knex, { schoolId: sc.id, name: str(v.name), active: false });
        if (exists) throw new AdminError(`此學校已有名為「${str(v.name)}」的刷卡機`);
        ctx.out(
          `${prefix(dry)}${sc.name}：將建立刷卡機「${str(v.name)}」（方向 ${directionText(direction)}）並產生權杖\n`,
        );
        return 0;
      }
      const { reader, token } = await createReader(
        knex,
        { schoolId: sc.id, name: str(v.name), direction },
        SCRIPT_ACTOR,
      );
      ctx.out(`${sc.name}：已建立刷卡機「${reader.name}」（編號 ${reader.id}，方向 ${directionText(direction)}）\n`);
      ctx.out(`權杖（只顯示這一次，請設定到刷卡機的 Authorization: Bearer）：\n${token}\n`);
      return 0;
    },
  },
  'reader:revoke': {
    summary: '撤銷刷卡機的權杖（立即失效）',
    usage: 'reader:revoke --school <學校代碼> [--level <級別>] --name <刷卡機名稱> [--dry-run]',
    example: 'npm run admin -- reader:revoke --school 353607 --level elementary --name 正門',
    options: { ...common, ...school, name: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'name');
      const sc = await schoolOf(ctx, v);
      const knex = await ctx.knex();
      const name = str(v.name).normalize('NFKC').trim();
      const active = await readerNamed(knex, { schoolId: sc.id, name, active: true });
      if (!active) throw new AdminError(`${sc.name} 沒有使用中、名為「${name}」的刷卡機`);
      if (dry) {
        ctx.out(`${prefix(dry)}${sc.name}：將撤銷刷卡機「${name}」（編號 ${active.id}）\n`);
        return 0;
      }
      await revokeReader(knex, { schoolId: sc.id, name }, ctx.now(), SCRIPT_ACTOR);
      ctx.out(`${sc.name}：已撤銷刷卡機「${name}」（編號 ${active.id}）\n`);
      return 0;
    },
  },
  'reader:direction': {
    summary: '變更刷卡機的方向：in 進校（刷卡不算離校）、out 離校（刷卡隨時算離校）、both 進出（放學時間後才算離校）',
    usage:
      'reader:direction --school <學校代碼> [--level <級別>] --name <刷卡機名稱> --direction in|out|both [--dry-run]',
    example: 'npm run admin -- reader:direction --school 353607 --level elementary --name 側門 --direction out',
    options: { ...common, ...school, name: { type: 'string' }, direction: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'name', 'direction');
      const direction = directionOf(v);
      const sc = await schoolOf(ctx, v);
      const knex = await ctx.knex();
      const name = str(v.name).normalize('NFKC').trim();
      const active = await readerNamed(knex, { schoolId: sc.id, name, active: true });
      if (!active) throw new AdminError(`${sc.name} 沒有使用中、名為「${name}」的刷卡機`);
      if (dry) {
        ctx.out(
          `${prefix(dry)}${sc.name}：將把刷卡機「${name}」的方向由 ${directionText(active.direction)} 改為 ${directionText(direction)}\n`,
        );
        return 0;
      }
      const r = await setReaderDirection(knex, { schoolId: sc.id, name, direction }, (trx, c) =>
        auditAdmin(trx, 'reader.direction_changed', {
          schoolId: sc.id,
          targetType: 'card_reader',
          targetId: c.readerId,
          details: { name, from: c.from, to: c.to },
        }),
      );
      if (!r) throw new AdminError(`${sc.name} 沒有使用中、名為「${name}」的刷卡機`);
      ctx.out(
        r.from === r.to
          ? `${sc.name}：刷卡機「${name}」的方向已是 ${directionText(r.to)}，未變更\n`
          : `${sc.name}：刷卡機「${name}」的方向已由 ${directionText(r.from)} 改為 ${directionText(r.to)}\n`,
      );
      return 0;
    },
  },
  'card:issue': {
    summary: '發卡：把數位學生證卡號配給學生（學生原有的卡自前一天起失效）',
    usage:
      'card:issue --school <學校代碼> [--level <級別>] --student <學號> --card <卡號> [--from <YYYY-MM-DD>] [--dry-run]',
    example:
      'npm run admin -- card:issue --school 353607 --level elementary --student 11301001 --card 04A1B2C3D4 --from 2026-12-01',
    options: { ...common, ...school, student: { type: 'string' }, card: { type: 'string' }, from: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'student', 'card');
      const sc = await schoolOf(ctx, v);
      const knex = await ctx.knex();
      const number = str(v.student).normalize('NFKC').trim();
      const student = await studentOfSchool(knex, sc.id, number);
      if (!student) throw new AdminError(`${sc.name} 沒有學號 ${number} 的學生`);
      const from = typeof v.from === 'string' ? v.from : taipeiDate(ctx.now());
      const uid = normaliseCardUid(str(v.card));
      if (dry) {
        ctx.out(`${prefix(dry)}${sc.name}：將把卡號 ${uid} 配給 ${student.name}（${number}），自 ${from} 起有效\n`);
        return 0;
      }
      const r = await issueCard(knex, { studentId: student.id, cardUid: uid, validFrom: from }, SCRIPT_ACTOR);
      ctx.out(
        `${sc.name}：卡號 ${uid} 已配給 ${student.name}（${number}），自 ${from} 起有效；結束舊卡 ${r.retired} 張\n`,
      );
      return 0;
    },
  },
  'card:retire': {
    summary: '停用遺失或損壞的卡（之後的刷卡記為未對應，留待學校處理）',
    usage: 'card:retire --school <學校代碼> [--level <級別>] --card <卡號> [--last-date <YYYY-MM-DD>] [--dry-run]',
    example: 'npm run admin -- card:retire --school 353607 --level elementary --card 04A1B2C3D4',
    options: { ...common, ...school, card: { type: 'string' }, 'last-date': { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'card');
      const sc = await schoolOf(ctx, v);
      const knex = await ctx.knex();
      const uid = normaliseCardUid(str(v.card));
      const open = await openCardOfSchool(knex, sc.id, uid);
      if (!open) throw new AdminError(`${sc.name} 沒有使用中的卡號 ${uid}`);
      const last = typeof v['last-date'] === 'string' ? v['last-date'] : addDays(taipeiDate(ctx.now()), -1);
      if (!isValidDate(last)) throw new AdminError(`最後有效日「${last}」不是有效的日期（YYYY-MM-DD）`);
      if (dry) {
        ctx.out(`${prefix(dry)}${sc.name}：將停用卡號 ${uid}，最後有效日 ${last}\n`);
        return 0;
      }
      await retireSchoolCard(knex, SCRIPT_ACTOR, { schoolId: sc.id, cardId: open.id, fromDate: addDays(last, 1) });
      ctx.out(`${sc.name}：已停用卡號 ${uid}，最後有效日 ${last}\n`);
      return 0;
    },
  },
  'password:reset': {
    summary: '重設帳號密碼（一次性密碼只顯示一次，首次登入必須變更）',
    usage:
      'password:reset --school <學校代碼> [--level <級別>] --role <parent|teacher|school_admin> --login <帳號> [--dry-run]',
    example: 'npm run admin -- password:reset --school 353607 --level elementary --role teacher --login t401',
    options: { ...common, ...school, role: { type: 'string' }, login: { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'role', 'login');
      const sc = await schoolOf(ctx, v);
      const r = await resetPassword(await ctx.knex(), {
        schoolId: sc.id,
        role: str(v.role),
        login: str(v.login),
        now: ctx.now(),
        dryRun: dry,
      });
      if (dry) {
        ctx.out(`${prefix(dry)}${sc.name}：將重設 ${str(v.login)}（${r.displayName}）的密碼\n`);
        return 0;
      }
      ctx.out(
        `${sc.name}：已重設 ${str(v.login)}（${r.displayName}）的密碼，結束 ${r.sessionsEnded} 個登入中的工作階段。\n`,
      );
      ctx.out(`一次性密碼（只顯示這一次，首次登入必須變更）：${r.password}\n`);
      return 0;
    },
  },
  'holiday:add': {
    summary: '新增學校假日：單日（--date）或連續假期（--from/--to，例如寒假）；單一學校或所有學校',
    usage:
      'holiday:add (--school <學校代碼> [--level <級別>] | --all) (--date <YYYY-MM-DD> | --from <YYYY-MM-DD> --to <YYYY-MM-DD>) --name <名稱> [--dry-run]',
    example:
      'npm run admin -- holiday:add --school 353607 --level elementary --from 2027-01-21 --to 2027-02-10 --name 寒假',
    options: {
      ...common,
      ...school,
      all: { type: 'boolean' },
      date: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      name: { type: 'string' },
    },
    async run(ctx, v, dry) {
      need(v, 'name');
      if (v.date !== undefined && (v.from !== undefined || v.to !== undefined))
        throw new UsageError('--date 與 --from/--to 只能擇一');
      if (v.date === undefined) need(v, 'from', 'to');
      const from = str(v.date ?? v.from);
      const to = str(v.date ?? v.to);
      if (v.all === true && v.school !== undefined) throw new UsageError('--all 與 --school 只能擇一');
      if (v.all !== true && v.school === undefined) throw new UsageError('請指定 --school <學校代碼> 或 --all');
      const knex = await ctx.knex();
      let ids: number[];
      let label: string;
      if (v.all === true) {
        ids = await allSchoolIds(knex);
        label = `所有學校（${ids.length} 所）`;
      } else {
        const sc = await schoolOf(ctx, v);
        ids = [sc.id];
        label = sc.name;
      }
      const r = await addHoliday(knex, { schoolIds: ids, from, to, name: str(v.name), dryRun: dry });
      const when = from === to ? from : `${from}~${to}（${r.days} 天）`;
      ctx.out(`${prefix(dry)}${label}：${when} ${str(v.name).trim()}，新增 ${r.created}、更新名稱 ${r.updated}\n`);
      return 0;
    },
  },
  'announcement:post': {
    summary: '發布教育局公告（所有學校的使用者都看得到）',
    usage: 'announcement:post --title <標題> (--body <內容> | --body-file <檔案>) [--pinned] [--dry-run]',
    example: 'npm run admin -- announcement:post --title 系統維護公告 --body-file notice.txt --pinned',
    options: {
      ...common,
      title: { type: 'string' },
      body: { type: 'string' },
      'body-file': { type: 'string' },
      pinned: { type: 'boolean' },
    },
    async run(ctx, v, dry) {
      need(v, 'title');
      if ((v.body === undefined) === (v['body-file'] === undefined))
        throw new AdminError('請指定 --body 或 --body-file（擇一）');
      const body = typeof v['body-file'] === 'string' ? await readFile(v['body-file'], 'utf8') : str(v.body);
      const r = await postAnnouncement(await ctx.knex(), {
        title: str(v.title),
        body,
        pinned: v.pinned === true,
        now: ctx.now(),
        dryRun: dry,
      });
      ctx.out(
        `${prefix(dry)}教育局公告「${r.title}」${r.id ? `已發布（編號 ${r.id}）` : '將發布'}${v.pinned === true ? '，置頂' : ''}\n`,
      );
      return 0;
    },
  },
  'figures:rebuild': {
    summary: '由原始資料重算學校的每日統計（統計報表、首頁的簡訊與出勤數字）；大量匯入資料後或數字不符時使用',
    usage:
      'figures:rebuild (--school <學校代碼> [--level <級別>] | --all) [--from <YYYY-MM-DD> --to <YYYY-MM-DD>] [--dry-run]',
    example: 'npm run admin -- figures:rebuild --school 353607 --level elementary',
    options: { ...common, ...school, all: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' } },
    async run(ctx, v, dry) {
      if (v.all === true && v.school !== undefined) throw new UsageError('--all 與 --school 只能擇一');
      if (v.all !== true && v.school === undefined) throw new UsageError('請指定 --school <學校代碼> 或 --all');
      const knex = await ctx.knex();
      let ids: number[];
      let label: string;
      if (v.all === true) {
        ids = await allSchoolIds(knex);
        label = `所有學校（${ids.length} 所）`;
      } else {
        const sc = await schoolOf(ctx, v);
        ids = [sc.id];
        label = `${sc.name}（${sc.code}）`;
      }
      const from = typeof v.from === 'string' ? v.from : undefined;
      const to = typeof v.to === 'string' ? v.to : undefined;
      const r = await rebuildFiguresCommand(knex, {
        schoolIds: ids,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        dryRun: dry,
      });
      const when = from !== undefined ? `${from}~${to}` : '所有日期';
      const drift = `與原始資料不符：簡訊統計 ${r.drift.sms} 天、出勤統計 ${r.drift.attendance} 天`;
      ctx.out(
        dry
          ? `${prefix(dry)}${label}，${when}：${drift}；將重算\n`
          : `${label}，${when}：重算前${drift}；已重算，寫入簡訊統計 ${r.smsRows} 天、出勤統計 ${r.attendanceRows} 天\n`,
      );
      return 0;
    },
  },
  'demo:city': {
    summary: '建立壓力測試用的示範城市（大量 SQL；正式環境與有真實資料的資料庫一律拒絕）',
    usage:
      'demo:city --schools <所數 1–300> --students-per-school <人數 1–3000> [--dry-run]\n\n' +
      '  在 PostgreSQL 上以大量 SQL 建立：每校約 30 人一班的班級與導師帳號（t<班級代碼>）、學校管理者（admin）、\n' +
      '  學生、家長與家長帳號（帳號 = 學號）、卡片、一台讀卡機、本學期簡訊服務期間；約 45 % 訂購（已驗證手機，\n' +
      '  部分註銷審核中）、約 3 % 訂購審核中；今天以前 20 個上課日的刷卡、對應的到離校簡訊與出勤日；公告。\n' +
      '  所有帳號的密碼都是 demo-1234（只計算一次 bcrypt，所有帳號共用同一個雜湊；不強制變更）。\n' +
      '  有真實資料的資料庫（任何不屬於示範資料的學生或帳號，包括先前建立的城市）一律拒絕，不寫入任何資料；\n' +
      '  NODE_ENV=production 時拒絕。',
    example: 'npm run admin -- demo:city --schools 150 --students-per-school 2000',
    options: { ...common, schools: { type: 'string' }, 'students-per-school': { type: 'string' } },
    async run(ctx, v, dry) {
      need(v, 'schools', 'students-per-school');
      const count = (name: string, max: number) => {
        const text = str(v[name]);
        if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > max)
          throw new UsageError(`--${name} 應為 1 到 ${max} 的整數：${text}`);
        return Number(text);
      };
      const schools = count('schools', 300);
      const perSchool = count('students-per-school', 3000);
      if (ctx.production) throw new AdminError('NODE_ENV=production：demo:city 只用於測試環境，拒絕執行');
      const today = taipeiDate(ctx.now());
      const knex = await ctx.knex();
      const problem = await realDataProblem(knex);
      if (problem) throw new AdminError(problem);
      const passwordHash = dry ? '!dry-run' : await hashPassword(DEMO_PASSWORD);
      const fmt = (s: CityStep) =>
        `  ${s.name.padEnd(28)} ${String(s.rows).padStart(10)} 筆 ${(s.ms / 1000).toFixed(1).padStart(7)} s\n`;
      if (!dry) ctx.out(`建立示範城市：${schools} 所學校 × ${perSchool} 名學生（今天 ${today}）…\n`);
      const r = await buildCity(knex, {
        schools,
        studentsPerSchool: perSchool,
        today,
        passwordHash,
        dryRun: dry,
        progress: (s) => ctx.out(fmt(s)),
      });
      const names =
        r.schools
          .slice(0, 5)
          .map((s) => s.name)
          .join('、') + (r.schools.length > 5 ? ` 等 ${r.schools.length} 所` : '');
      if (dry) {
        ctx.out(
          `${prefix(dry)}將在 ${names} 建立約 ${schools * perSchool} 名學生、${schools * Math.ceil(perSchool / 30)} 個班級，` +
            `簡訊服務「${r.period.name}」${r.period.startsOn}~${r.period.endsOn}，刷卡日 ${r.days[0]}~${r.days[r.days.length - 1]}\n`,
        );
        return 0;
      }
      ctx.out(`\n| 項目 | 筆數 | 秒 |\n|---|---:|---:|\n`);
      for (const s of r.steps) ctx.out(`| ${s.name} | ${s.rows} | ${(s.ms / 1000).toFixed(1)} |\n`);
      ctx.out(`| 合計 | | ${(r.ms / 1000).toFixed(1)} |\n\n`);
      ctx.out(`學校：${names}；簡訊服務「${r.period.name}」；刷卡日 ${r.days[0]}~${r.days[r.days.length - 1]}。\n`);
      const first = r.schools[0]!;
      ctx.out(
        `登入（密碼 ${DEMO_PASSWORD}）：${first.name}（${first.code}）學校管理者 admin、教師 t${first.level === 'elementary' ? '101' : first.level === 'junior_high' ? '701' : '1001'}、家長 ${schoolYearOf(today)}00001\n`,
      );
      return 0;
    },
  },
};

export function generalHelp(): string {
  const lines = ['usage: npm run admin -- <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(18)} ${c.summary}`);
  lines.push(
    '',
    '每個指令都有 --help 與 --dry-run（只檢查並報告將做什麼，不寫入資料庫）。',
    `級別 (--level)：${LEVELS.map((l) => `${l} ${LEVEL_LABELS[l]}`).join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}

function commandHelp(name: string, c: Command): string {
  return `${c.summary}\n\nusage: npm run admin -- ${c.usage}\n\nexample:\n  ${c.example}\n`;
}

/** Run one command line; returns the exit code (0 ok, 64 usage, 65 bad data, 1 failure). */
export async function runAdmin(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ctx.out(generalHelp());
    return name ? 0 : 64;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    ctx.err(`未知的指令：${name}\n\n${generalHelp()}`);
    return 64;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: cmd.options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (e) {
    ctx.err(`${(e as Error).message}\n\n${commandHelp(name, cmd)}`);
    return 64;
  }
  if (values.help === true) {
    ctx.out(commandHelp(name, cmd));
    return 0;
  }
  try {
    return await cmd.run(ctx, values, values['dry-run'] === true);
  } catch (e) {
    if (e instanceof AdminError || e instanceof ReaderError || e instanceof CardError) {
      ctx.err(`${e.message}\n`);
      return e instanceof UsageError || (e instanceof AdminError && e.message.startsWith('缺少參數')) ? 64 : 65;
    }
    throw e;
  }
}
