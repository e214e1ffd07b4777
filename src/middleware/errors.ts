import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps.js';
import { DomainError, HttpError, NotFoundError, statusOf } from '../http-errors.js';

const TITLES: Record<number, string> = {
  400: '輸入的資料有誤',
  403: '無法處理此要求',
  404: '找不到網頁',
  405: '不支援此操作',
  413: '送出的資料過大',
  422: '輸入的資料有誤',
  429: '操作太頻繁',
  500: '系統發生錯誤',
  503: '系統暫時無法服務',
};

/**
 * The `code` of a JSON error answer that no API handler gave itself (an unknown /api path, a 5xx), so that every
 * JSON refusal has the shape of docs/reader-api.md: `{ error: { status, code, message } }`.
 */
const JSON_CODES: Record<number, string> = {
  400: 'malformed',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'too_large',
  415: 'unsupported_media_type',
  422: 'invalid',
  429: 'rate_limited',
  500: 'internal',
  503: 'unavailable',
};

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError('找不到您要的網頁，請確認網址是否正確。'));
}

/** Is this error the database being unreachable (or too slow), rather than a bug? */
function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  if (!e) return false;
  if (e.name === 'KnexTimeoutError') return true;
  if (
    typeof e.code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003', '57014'].includes(e.code)
  )
    return true;
  // `timeout expired` is pg's own connect deadline (connectionTimeoutMillis) on a server that accepts but never answers.
  return /Connection terminated|timeout exceeded when trying to connect|timeout expired|connect ECONNREFUSED|Query read timeout/i.test(
    e.message ?? '',
  );
}

/** Every error ends on a zh-TW page with the right status; a stack trace only in development. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const { config } = depsOf(req);
  let status = 500;
  let message = '很抱歉，系統發生錯誤，請稍後再試。若問題持續，請洽臺北市民當家熱線 1999 轉分機 8585。';
  const e = err as { status?: number; statusCode?: number; type?: string; expose?: boolean; message?: string };
  if (err instanceof HttpError) {
    status = err.status;
    message = err.message;
  } else if (err instanceof DomainError) {
    status = statusOf(err);
    message = err.message;
  } else if (isDatabaseDown(err)) {
    status = 503;
    message = '系統暫時無法連線資料庫，請稍後再試。';
  } else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    // body-parser and friends: 400 malformed, 413 too large, 415 …
    status = e.status;
    message =
      status === 413
        ? '送出的資料過大，請減少內容後再試。'
        : status === 415
          ? '不支援的資料格式。'
          : '送出的資料格式有誤，請回到頁面重新操作。';
  }
  if (status >= 500 && status !== 503) req.log?.error({ err }, 'request failed');
  else if (status === 503) req.log?.warn({ err: (err as Error)?.message }, 'database unavailable');
  // (a response already on its way — e.g. a session save that failed after the page — is left as it is)
  if (res.headersSent) return;
  res.status(status);
  if (status === 503) res.set('Retry-After', '5');
  if (status >= 400) res.set('Cache-Control', 'no-store');
  const wantsJson = req.path.startsWith('/api/') || (req.accepts(['html', 'json']) === 'json' && !req.accepts('html'));
  if (wantsJson) {
    // The machine APIs' error shape ({ error: { status, code, message } }, docs/reader-api.md).
    res.json({ error: { status, code: JSON_CODES[status] ?? 'error', message } });
    return;
  }
  const stack = config.env === 'development' && status === 500 ? (err as Error)?.stack : undefined;
  res.render('errors/error', { status, title: TITLES[status] ?? '錯誤', message, stack });
}
