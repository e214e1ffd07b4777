import { Router } from 'express';
import type { AppDeps } from '../deps.js';

/** Machine APIs under /api/v1 (card readers, SMS delivery reports): bearer tokens, JSON, no cookies (being written). */
export function apiRoutes(_deps: AppDeps): Router {
  const r = Router();
  return r;
}
