import type { Router } from 'express';
import type { AppDeps } from '../deps.js';
import * as account from '../controllers/account-controller.js';
import * as resets from '../controllers/account-resets-controller.js';
import { requireRole, signedInRouter } from '../middleware/auth.js';
import { allow } from './menu.js';

/** 我的帳號 and 家長密碼重設 (the login form and 臺北卡登入, open to everyone, are mounted in index.ts). */
export function authRoutes(_deps: AppDeps): Router {
  const r = signedInRouter('/account');
  const parent = requireRole('parent');
  const staff = requireRole('teacher', 'school_admin');
  r.get('/account', allow('account'), account.show);
  r.get('/account/password', account.editPassword);
  r.post('/account/password', account.updatePassword);
  r.post('/account/current-student', parent, account.switchStudent);
  r.post('/account/taipei-card/unlink', parent, account.unlinkCard);
  r.get('/account/parent-passwords', staff, resets.index);
  r.get('/account/parent-passwords/:accountId/reset', staff, resets.confirm);
  r.post('/account/parent-passwords/:accountId/reset', staff, resets.reset);
  return r;
}
