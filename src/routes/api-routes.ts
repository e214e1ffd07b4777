import express, { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { apiError, postSwipes, readerBodyErrors, requireReader } from '../controllers/swipes-api-controller.js';
import { admission } from '../middleware/admission.js';

/** Seconds a reader is told to wait before it retries a batch the portal had no room for. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** Machine APIs under /api/v1 (card readers): bearer tokens, JSON, no cookies. */
export function apiRoutes(deps: AppDeps): Router {
  const r = Router();
  // Batches take turns for the database (READER_API_*): a morning burst queues, and what cannot wait is shed
  // with 503 + Retry-After, before anything is stored.
  const turns = admission({
    ...deps.config.readerApi,
    onBusy: (req, res, why) => {
      req.log?.warn({ why, readerId: (res.locals.reader as { id?: number } | undefined)?.id }, 'swipe batch shed');
      res.set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
      apiError(
        res,
        503,
        'busy',
        `the portal is busy: nothing was stored, send the batch again in ${BUSY_RETRY_AFTER_SECONDS} seconds`,
      );
    },
  });
  // The token is checked before the body is even parsed.
  r.post('/swipes', requireReader, turns, express.json({ limit: '256kb', strict: true }), postSwipes, readerBodyErrors);
  return r;
}
