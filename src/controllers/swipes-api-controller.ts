/**
 * POST /api/v1/swipes — the gate readers' API. JSON in, JSON out, a bearer token per reader.
 *
 * - 401 wrong, malformed or revoked token (nothing read, nothing stored).
 * - 415 not JSON; 400 malformed JSON or a batch that fails validation; 413 more than 500 swipes (or a body
 *   over 256 kB); 422 any swipe dated more than 5 minutes ahead of our clock. In each case NOTHING is stored.
 * - 200 otherwise, with one result per swipe in input order: accepted (stored; `matched` says whether the card
 *   mapped to a student), duplicate (the same reader + event_id was already stored: readers retry), or
 *   rejected with a reason (`event_id_reused`: the event_id came before with another card or time;
 *   `too_old`: dated more than 31 days ago).
 * - 503 `busy` with Retry-After when the batch could not get a turn (READER_API_*) or the database did not
 *   answer in time: nothing stored, the reader sends it again.
 */
import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps.js';
import { authenticateReader, type Reader } from '../domain/readers/reader-tokens.js';
import { checkBatch, ingestSwipes } from '../domain/swipes/ingest.js';

export function apiError(res: Response, status: number, code: string, message: string, details?: unknown): void {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .json({ error: { status, code, message, ...(details ? { details } : {}) } });
}

/**
 * The body parser's refusals in the documented shape of docs/reader-api.md, like every other refusal of this API:
 * over 256 kB (413), an unknown charset or content encoding (415), and a body that cannot be read as JSON (400) —
 * broken JSON, and also a compressed body that does not decompress, which the parser reports as a bare 400 with
 * no `type`. Anything else (a 5xx: the database) goes on to the error handler.
 */
export function readerBodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return next(err);
  if (status === 413) return apiError(res, 413, 'batch_too_large', 'the body is over 256 kB; nothing was stored');
  if (status === 415)
    return apiError(
      res,
      415,
      'unsupported_media_type',
      'send the batch as UTF-8 application/json, uncompressed or gzip, deflate or br; nothing was stored',
    );
  apiError(res, 400, 'malformed', 'the body is not valid JSON (or does not decompress); nothing was stored');
}

/** Bearer-token authentication of a reader; the reader goes to `res.locals.reader`. */
export async function requireReader(req: Request, res: Response, next: NextFunction): Promise<void> {
  const header = req.get('authorization') ?? '';
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
  const reader = m ? await authenticateReader(depsOf(req).db.knex, m[1]) : undefined;
  if (!reader) {
    req.log?.warn({ hasHeader: header.length > 0 }, 'reader authentication failed');
    res.set('WWW-Authenticate', 'Bearer realm="swipes"');
    return apiError(res, 401, 'unauthorized', 'a valid reader token is required');
  }
  res.locals.reader = reader;
  next();
}

export async function postSwipes(req: Request, res: Response): Promise<void> {
  const { db, clock, config } = depsOf(req);
  const reader = res.locals.reader as Reader;
  if (!req.is('application/json')) {
    return apiError(res, 415, 'unsupported_media_type', 'send the batch as application/json');
  }
  const now = clock.now();
  const check = checkBatch(req.body, now);
  if (!check.ok) {
    req.log?.info({ readerId: reader.id, code: check.code }, 'swipe batch refused');
    return apiError(res, check.status, check.code, check.message, check.details);
  }
  const { results, notices } = await ingestSwipes(db.knex, reader, check.swipes, {
    now,
    departureMinMinutes: config.attendance.departureMinMinutes,
    lateSwipeMinutes: config.attendance.lateSwipeMinutes,
  });
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const summary = { accepted: count('accepted'), duplicate: count('duplicate'), rejected: count('rejected') };
  req.log?.info({ readerId: reader.id, ...summary, notices }, 'swipe batch stored');
  res.set('Cache-Control', 'no-store').json({ ...summary, results });
}
