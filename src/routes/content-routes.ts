import type { Router } from 'express';
import type { AppDeps } from '../deps.js';
import * as announcements from '../controllers/announcements-controller.js';
import * as messages from '../controllers/messages-controller.js';
import * as reports from '../controllers/reports-controller.js';
import { requireRole, signedInRouter } from '../middleware/auth.js';
import { allow } from './menu.js';

/** 公告資訊服務, 統計報表 and 訊息發送服務. */
export function contentRoutes(_deps: AppDeps): Router {
  const r = signedInRouter('/announcements', '/reports', '/messages');
  const admin = requireRole('school_admin');
  const staff = requireRole('teacher', 'school_admin');

  r.get('/announcements', allow('announcements'), announcements.index);
  r.get('/announcements/manage', admin, announcements.manage);
  r.get('/announcements/new', admin, announcements.newForm);
  r.post('/announcements', admin, announcements.create);
  r.get('/announcements/:id', announcements.show);
  r.get('/announcements/:id/edit', admin, announcements.editForm);
  r.post('/announcements/:id/edit', admin, announcements.update);
  r.post('/announcements/:id/withdraw', admin, announcements.withdraw);

  r.get('/reports', allow('reports'), reports.index);
  r.get('/reports/:report.csv', staff, reports.csv);

  r.get('/messages', allow('messages'), messages.index);
  r.post('/messages', staff, messages.create);
  r.get('/messages/:id', staff, messages.show);
  return r;
}
