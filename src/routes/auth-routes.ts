import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import * as account from '../controllers/account-controller.js';
import * as resets from '../controllers/account-resets-controller.js';
import { taipeiCardHandlers } from '../controllers/taipei-card-controller.js';
import { requireRole, requireUser } from '../middleware/auth.js';

/** 我的帳號, 家長密碼重設 and 臺北卡登入 (the login form itself is mounted in index.ts). */
export function authRoutes(deps: AppDeps): Router {
  const r = Router();
  const card = taipeiCardHandlers(deps);
  r.post('/auth/taipei-card', card.start);
  r.get('/auth/taipei-card/callback', card.callback);

  r.get('/account', requireUser, account.show);
  r.get('/account/password', requireUser, account.editPassword);
  r.post('/account/password', requireUser, account.updatePassword);
  r.post('/account/current-student', requireUser, requireRole('parent'), account.switchStudent);
  r.post('/account/taipei-card/unlink', requireUser, requireRole('parent'), account.unlinkCard);
  r.get('/account/parent-passwords', requireUser, requireRole('teacher', 'school_admin'), resets.index);
  r.get(
    '/account/parent-passwords/:accountId/reset',
    requireUser,
    requireRole('teacher', 'school_admin'),
    resets.confirm,
  );
  r.post(
    '/account/parent-passwords/:accountId/reset',
    requireUser,
    requireRole('teacher', 'school_admin'),
    resets.reset,
  );
  return r;
}
