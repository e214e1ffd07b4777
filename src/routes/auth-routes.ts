import { Router } from 'express';
import type { AppDeps } from '../deps.js';

/** Pages of this area (being written). */
export function authRoutes(_deps: AppDeps): Router {
  const r = Router();
  return r;
}
