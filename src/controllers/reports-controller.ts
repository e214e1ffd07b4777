import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import { earliestMonth, monthCalendar } from '../domain/reports/calendar.js';
import { chartSvg, layoutChart } from '../domain/reports/chart.js';
import {
  buildAllReports,
  buildReport,
  rangeProblem,
  REPORT_KEYS,
  reportCsv,
  type Range,
} from '../domain/reports/reports.js';
import { addDays } from '../domain/time.js';
import { NotFoundError } from '../http-errors.js';
import { date, fieldErrors } from '../validation.js';

const RangeQuery = z.strictObject({ from: date.optional(), to: date.optional() });
const MonthQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, '月份格式應為 YYYY-MM')
    .optional(),
});

function defaultRange(today: string): Range {
  return { from: addDays(today, -27), to: today };
}

/** Parse ?from&to: defaults to the last four weeks; errors per field. */
function parseRange(query: unknown, today: string): { range: Range; errors: Record<string, string> } {
  const parsed = RangeQuery.safeParse({ ...(query as object) });
  const def = defaultRange(today);
  if (!parsed.success) return { range: def, errors: fieldErrors(parsed.error) };
  const range = { from: parsed.data.from ?? def.from, to: parsed.data.to ?? def.to };
  const problem = rangeProblem(range);
  return problem ? { range, errors: { to: problem } } : { range, errors: {} };
}

/** GET /reports — 統計報表: staff get the reports of their scope; a parent gets the child's month. */
export async function index(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const today = clock.today();
  if (user.role === 'parent') {
    const q = MonthQuery.safeParse({ ...req.query });
    let month = q.success && q.data.month ? q.data.month : today.slice(0, 7);
    // Only this month and the 12 before it (no endless crawl into the past; nothing in the future).
    if (month > today.slice(0, 7)) month = today.slice(0, 7);
    if (month < earliestMonth(today)) month = earliestMonth(today);
    const cal = await monthCalendar(db.knex, user, month, today);
    return res.status(q.success ? 200 : 422).render('reports/parent', {
      title: '統計報表',
      cal,
      child: user.currentChild,
      errors: q.success ? {} : fieldErrors(q.error),
    });
  }
  const { range, errors } = parseRange(req.query, today);
  const hasErrors = Object.keys(errors).length > 0;
  const reports = hasErrors ? [] : await buildAllReports(db.knex, user, range, today);
  res.status(hasErrors ? 422 : 200).render('reports/index', {
    title: '統計報表',
    range,
    errors,
    reports: reports.map((r) => ({ ...r, svg: chartSvg(layoutChart(r.chart), `chart-${r.key}`) })),
    csvQuery: new URLSearchParams({ from: range.from, to: range.to }).toString(),
  });
}

/** GET /reports/:report.csv — the same figures as the page, UTF-8 with BOM. */
export async function csv(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const key = REPORT_KEYS.find((k) => k === req.params.report);
  if (!key) throw new NotFoundError();
  const today = clock.today();
  const { range, errors } = parseRange(req.query, today);
  if (Object.keys(errors).length > 0) {
    res.status(422).type('text/plain; charset=utf-8').send(Object.values(errors).join('\n'));
    return;
  }
  const report = await buildReport(db.knex, userOf(req), key, range, today);
  res
    .status(200)
    .type('text/csv; charset=utf-8')
    .set(
      'Content-Disposition',
      `attachment; filename="${key}-${range.from}-${range.to}.csv"; filename*=UTF-8''${encodeURIComponent(`${report.title}-${range.from}-${range.to}.csv`)}`,
    )
    .send(reportCsv(report));
}
