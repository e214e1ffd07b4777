import { Router } from 'express';
import type { AppDeps } from '../deps.js';

/** Pages of this area (being written). */
export function smsRoutes(_deps: AppDeps): Router {
  const r = Router();
  return r;
}
