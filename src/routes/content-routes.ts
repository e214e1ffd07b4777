import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import * as announcements from '../controllers/announcements-controller.js';
import * as messages from '../controllers/messages-controller.js';
import * as reports from '../controllers/reports-controller.js';
import { requireRole, requireUser } from '../middleware/auth.js';

/** 公告資訊服務, 統計報表 and 訊息發送服務. */
export function contentRoutes(_deps: AppDeps): Router {
  const r = Router();
  const admin = requireRole('school_admin');
  const staff = requireRole('teacher', 'school_admin');

  r.get('/announcements', requireUser, announcements.index);
  r.get('/announcements/manage', requireUser, admin, announcements.manage);
  r.get('/announcements/new', requireUser, admin, announcements.newForm);
  r.post('/announcements', requireUser, admin, announcements.create);
  r.get('/announcements/:id', requireUser, announcements.show);
  r.get('/announcements/:id/edit', requireUser, admin, announcements.editForm);
  r.post('/announcements/:id/edit', requireUser, admin, announcements.update);
  r.post('/announcements/:id/withdraw', requireUser, admin, announcements.withdraw);

  r.get('/reports', requireUser, reports.index);
  r.get('/reports/:report.csv', requireUser, staff, reports.csv);

  r.get('/messages', requireUser, messages.index);
  r.post('/messages', requireUser, staff, messages.create);
  r.get('/messages/:id', requireUser, staff, messages.show);
  return r;
}
