/**
 * The list kit, its web half (the page shape and size are in `src/domain/paging.ts`). A list page's query is
 * its filters and `page`, parsed with zod over a copy of req.query (Express 5's is read-only): strict (unknown
 * keys refused), one string per key. A bad query has one answer on every list: status 400, the page with a
 * message naming the fields, and no rows — nothing else changes. `views/partials/pager.ejs` shows the paging.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { fieldErrors, optionalId, page } from '../validation.js';
import { emptyPage, type Page } from '../domain/paging.js';

/** The query schema of a list page: its filters and `page` (1 when absent). */
export function listQuery<S extends z.ZodRawShape>(filters: S) {
  return z.strictObject({ ...filters, page: page.transform((v) => v ?? 1) });
}

/** The query of a page about one class at a time (繳費管理, 到離校簡訊註冊服務, 家長密碼重設): `classId` only. */
export const classQuery = z.strictObject({ classId: optionalId });

/** What each query field is called in the message of a bad query. */
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
  date: '日期',
  page: '頁數',
  notice: '訊息',
};

export type ParsedQuery<V> = { ok: true; value: V } | { ok: false; message: string };

/** Parse a list's query; on failure, one readable message naming the fields. */
export function parseListQuery<S extends z.ZodType>(schema: S, req: Request): ParsedQuery<z.output<S>> {
  const parsed = schema.safeParse({ ...(req.query as Record<string, unknown>) });
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = fieldErrors(parsed.error);
  const parts = Object.entries(errors).map(([k, m]) =>
    k === '_form' ? '查詢含有不允許的條件' : `${FIELD_LABELS[k] ?? '查詢條件'}：${m}`,
  );
  return { ok: false, message: `查詢條件有誤（${parts.join('；')}），請重新選擇後再按「查詢」。` };
}

/** Read the page the query asks for; a bad query reads nothing (400, no rows, its message). */
export async function readList<V, P extends Page<unknown>>(
  parsed: ParsedQuery<V>,
  load: (value: V) => Promise<P>,
  empty: () => P = emptyPage as () => P,
): Promise<{ status: 200 | 400; list: P; queryError: string | undefined }> {
  if (!parsed.ok) return { status: 400, list: empty(), queryError: parsed.message };
  return { status: 200, list: await load(parsed.value), queryError: undefined };
}

/** The paging links of a list page: its path and validated filter values (never the raw query), and `page`. */
function pageHref(path: string, values: Record<string, string | number | undefined>, pageNumber: number): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(values))
    if (v !== undefined && v !== '' && k !== 'page' && k !== 'notice') qs.set(k, String(v));
  qs.set('page', String(pageNumber));
  return `${path}?${qs.toString()}`;
}

/** `pageLink` for the pager partial. */
export const pageLinks =
  (path: string, values: Record<string, string | number | undefined> = {}) =>
  (n: number): string =>
    pageHref(path, values, n);
