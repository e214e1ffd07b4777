/**
 * The list kit, its domain half: one page size and one page shape for every paged list of the portal
 * (訂購服務, 註銷服務, 審核, 簡訊發送紀錄, 訊息發送服務, 公告資訊服務, 未對應刷卡). The query functions
 * return a `Page<T>`; the web half (`src/controllers/list-kit.ts`) parses the page and the filters and answers a
 * bad query, and `views/partials/pager.ejs` shows the paging.
 */

/** Rows a page of any list shows. */
export const PAGE_SIZE = 50;

export interface Page<T> {
  rows: T[];
  /** Rows of the whole list (every page). */
  total: number;
  /** This page's number, from 1; a page past the end shows no rows (and the total). */
  page: number;
  pageSize: number;
  /** The list positions of the first and last row shown (1-based; 0 and 0 when none). */
  from: number;
  to: number;
  lastPage: number;
}

/** The rows a page skips: `.limit(PAGE_SIZE).offset(offsetOf(page))`. */
export const offsetOf = (page: number): number => (page - 1) * PAGE_SIZE;

/** A page of a list from its rows, the list's total and the page's number. */
export function pageOf<T>(rows: T[], total: number, page: number): Page<T> {
  const from = total === 0 || rows.length === 0 ? 0 : offsetOf(page) + 1;
  return {
    rows,
    total,
    page,
    pageSize: PAGE_SIZE,
    from,
    to: from === 0 ? 0 : from + rows.length - 1,
    lastPage: Math.max(1, Math.ceil(total / PAGE_SIZE)),
  };
}

/** The page of a list that was not read (a bad query, or a user who may not see it). */
export function emptyPage<T>(): Page<T> {
  return pageOf<T>([], 0, 1);
}
