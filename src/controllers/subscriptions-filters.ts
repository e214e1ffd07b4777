/**
 * The query strings of the SMS lists, validated with zod over a copy of req.query (Express 5's is read-only):
 * strict (unknown keys refused), one string per key (arrays refused), enums for states, ids range-checked.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { fieldErrors, optionalId, page, text } from '../validation.js';
import {
  APPLICANT_OPTIONS,
  CANCELLATION_STATUS_OPTIONS,
  KIND_OPTIONS,
  ORDER_STATUS_OPTIONS,
} from '../domain/subscriptions/queries.js';

const choice = <T extends readonly (readonly [string, string])[]>(options: T, message: string) =>
  z
    .union([z.literal(''), z.enum(options.map(([v]) => v) as [T[number][0], ...T[number][0][]], { error: message })], {
      error: message,
    })
    .optional()
    .transform((v) => (v === '' ? undefined : v));

const studentNumber = text(16)
  .refine((v) => v === '' || /^[0-9A-Za-z]{1,16}$/.test(v), '學號只能是英文字母與數字')
  .optional()
  .transform((v) => (v ? v : undefined));

const seat = text(2)
  .refine((v) => v === '' || /^[1-9]\d?$/.test(v), '座號應為 1 到 99 的數字')
  .optional()
  .transform((v) => (v ? Number(v) : undefined));

const name = text(20)
  .optional()
  .transform((v) => (v ? v : undefined));

const common = {
  schoolId: optionalId,
  classId: optionalId,
  name,
  studentNumber,
  seat,
  applicant: choice(APPLICANT_OPTIONS, '申請人員的選項不正確'),
  page: page.transform((v) => v ?? 1),
  notice: z.enum(['pending-review', 'order-pending', 'order-pending-next'], { error: '格式有誤' }).optional(),
};

export const orderListQuery = z.strictObject({
  ...common,
  status: choice(ORDER_STATUS_OPTIONS, '狀態的選項不正確'),
});

export const cancellationListQuery = z.strictObject({
  ...common,
  periodId: optionalId,
  status: choice(CANCELLATION_STATUS_OPTIONS, '狀態的選項不正確'),
});

export const reviewListQuery = z.strictObject({
  classId: optionalId,
  kind: choice(KIND_OPTIONS, '申請類別的選項不正確'),
  page: page.transform((v) => v ?? 1),
});

const FIELD_LABELS: Record<string, string> = {
  schoolId: '學校',
  classId: '班級',
  name: '姓名',
  studentNumber: '學號',
  seat: '座號',
  status: '狀態',
  applicant: '申請人員',
  periodId: '簡訊服務名稱',
  kind: '申請類別',
  page: '頁數',
  notice: '訊息',
};

/** Parse a list's query; on failure, one readable message naming the fields (the page then shows no rows). */
export function parseQuery<S extends z.ZodType>(
  schema: S,
  req: Request,
): { ok: true; value: z.output<S> } | { ok: false; message: string } {
  const parsed = schema.safeParse({ ...(req.query as Record<string, unknown>) });
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = fieldErrors(parsed.error);
  const parts = Object.entries(errors).map(([k, m]) =>
    k === '_form' ? '查詢含有不允許的條件' : `${FIELD_LABELS[k] ?? '查詢條件'}：${m}`,
  );
  return { ok: false, message: `查詢條件有誤（${parts.join('；')}），請重新選擇後再按「查詢」。` };
}

/** The query string of a list page for the paging links, built from validated values only. */
export function pageHref(
  path: string,
  values: Record<string, string | number | undefined>,
  pageNumber: number,
): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(values))
    if (v !== undefined && v !== '' && k !== 'page' && k !== 'notice') qs.set(k, String(v));
  qs.set('page', String(pageNumber));
  return `${path}?${qs.toString()}`;
}
