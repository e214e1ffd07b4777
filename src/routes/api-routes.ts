import express, { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { postSwipes, readerBodyErrors, requireReader } from '../controllers/swipes-api-controller.js';

/** Machine APIs under /api/v1 (card readers): bearer tokens, JSON, no cookies. */
export function apiRoutes(_deps: AppDeps): Router {
  const r = Router();
  // The token is checked before the body is even parsed.
  r.post('/swipes', requireReader, express.json({ limit: '256kb', strict: true }), postSwipes, readerBodyErrors);
  return r;
}
