import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import * as attendance from '../controllers/attendance-controller.js';
import * as swipes from '../controllers/swipes-controller.js';
import * as calendar from '../controllers/school-calendar-controller.js';
import { requireRole, requireUser } from '../middleware/auth.js';

/** 出勤管理 (parents and staff), 補登, the CSV export, and the school admin's calendar and unmatched swipes. */
export function attendanceRoutes(_deps: AppDeps): Router {
  const r = Router();
  const staff = requireRole('teacher', 'school_admin');
  const admin = requireRole('school_admin');
  r.get('/attendance', requireUser, attendance.index);
  r.post('/attendance/manual-entries', requireUser, staff, attendance.createManualEntry);
  r.get('/attendance/manual-entries/:id', requireUser, staff, attendance.showManualEntry);
  r.post('/attendance/manual-entries/:id/correction', requireUser, staff, attendance.correctEntry);
  r.post('/attendance/manual-entries/:id/deletion', requireUser, staff, attendance.deleteEntry);
  r.get('/attendance/export.csv', requireUser, staff, attendance.exportCsv);
  r.get('/attendance/calendar', requireUser, admin, calendar.show);
  r.post('/attendance/calendar/holidays', requireUser, admin, calendar.createHoliday);
  r.get('/attendance/calendar/holidays/:id/removal', requireUser, admin, calendar.confirmRemoval);
  r.post('/attendance/calendar/holidays/:id/removal', requireUser, admin, calendar.removeHoliday);
  r.post('/attendance/calendar/dismissal-times', requireUser, admin, calendar.updateDismissalTimes);
  r.get('/swipes/unmatched', requireUser, admin, swipes.unmatched);
  r.post('/swipes/:id/resolution', requireUser, admin, swipes.resolve);
  r.get('/swipes/cards', requireUser, admin, swipes.cards);
  r.post('/swipes/cards', requireUser, admin, swipes.issue);
  r.post('/swipes/cards/retire', requireUser, admin, swipes.retire);
  return r;
}
