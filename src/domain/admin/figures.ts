/**
 * figures:rebuild — recount a school's (or every school's) daily figures (統計報表, 首頁) from the raw rows:
 * after a bulk load that wrote outbox rows or stored days directly, or to repair a school whose figures drifted
 * (figureDrift says how many figure rows differ before the rebuild). See docs/daily-figures.md.
 */
import type { Knex } from 'knex';
import { figureDrift, rebuildFigures } from '../reports/daily-figures.js';
import { isValidDate } from '../time.js';
import { auditAdmin } from './commands.js';
import { AdminError, UsageError } from './schools.js';

export interface FiguresRebuild {
  schools: number;
  /** Figure rows (school-days) that differed from the recount before the rebuild. */
  drift: { sms: number; attendance: number };
  smsRows: number;
  attendanceRows: number;
}

export async function rebuildFiguresCommand(
  knex: Knex,
  o: { schoolIds: number[]; from?: string; to?: string; dryRun?: boolean },
): Promise<FiguresRebuild> {
  if ((o.from === undefined) !== (o.to === undefined)) throw new UsageError('--from 與 --to 必須一起指定');
  for (const d of [o.from, o.to])
    if (d !== undefined && !isValidDate(d)) throw new AdminError(`日期「${d}」不是有效的日期（YYYY-MM-DD）`);
  if (o.from !== undefined && o.to !== undefined && o.from > o.to) throw new AdminError('開始日期不可晚於結束日期');
  const days = o.from !== undefined && o.to !== undefined ? { from: o.from, to: o.to } : undefined;
  const out: FiguresRebuild = {
    schools: o.schoolIds.length,
    drift: { sms: 0, attendance: 0 },
    smsRows: 0,
    attendanceRows: 0,
  };
  for (const id of o.schoolIds) {
    const d = await figureDrift(knex, id, days);
    out.drift.sms += d.sms;
    out.drift.attendance += d.attendance;
  }
  if (o.dryRun) return out;
  const r = await rebuildFigures(knex, { schoolIds: o.schoolIds, ...(days ?? {}) });
  out.smsRows = r.smsRows;
  out.attendanceRows = r.attendanceRows;
  await auditAdmin(knex, 'figures.rebuilt', {
    schoolId: o.schoolIds.length === 1 ? o.schoolIds[0] : null,
    targetType: 'school',
    ...(o.schoolIds.length === 1 ? { targetId: o.schoolIds[0] } : {}),
    details: {
      schools: o.schoolIds.length,
      ...(days ?? {}),
      drift: out.drift,
      smsRows: r.smsRows,
      attendanceRows: r.attendanceRows,
    },
  });
  return out;
}
