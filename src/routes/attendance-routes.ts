import type { Router } from 'express';
import type { AppDeps } from '../deps.js';
import * as attendance from '../controllers/attendance-controller.js';
import * as swipes from '../controllers/swipes-controller.js';
import * as calendar from '../controllers/school-calendar-controller.js';
import { requireRole, signedInRouter } from '../middleware/auth.js';
import { allow } from './menu.js';

/** 出勤管理 (parents and staff), 補登, the CSV export, and the school admin's calendar and unmatched swipes. */
export function attendanceRoutes(_deps: AppDeps): Router {
  const r = signedInRouter('/attendance', '/swipes');
  const staff = requireRole('teacher', 'school_admin');
  const admin = requireRole('school_admin');
  r.get('/attendance', allow('attendance.class'), attendance.index);
  r.post('/attendance/manual-entries', staff, attendance.createManualEntry);
  r.get('/attendance/manual-entries/:id', staff, attendance.showManualEntry);
  r.post('/attendance/manual-entries/:id/correction', staff, attendance.correctEntry);
  r.post('/attendance/manual-entries/:id/deletion', staff, attendance.deleteEntry);
  r.get('/attendance/export.csv', staff, attendance.exportCsv);
  r.get('/attendance/calendar', allow('attendance.calendar'), calendar.show);
  r.post('/attendance/calendar/holidays', admin, calendar.createHoliday);
  r.get('/attendance/calendar/holidays/:id/removal', admin, calendar.confirmRemoval);
  r.post('/attendance/calendar/holidays/:id/removal', admin, calendar.removeHoliday);
  r.post('/attendance/calendar/dismissal-times', admin, calendar.updateDismissalTimes);
  r.get('/swipes/unmatched', allow('swipes.unmatched'), swipes.unmatched);
  r.post('/swipes/:id/resolution', admin, swipes.resolve);
  r.get('/swipes/cards', allow('swipes.cards'), swipes.cards);
  r.post('/swipes/cards', admin, swipes.issue);
  r.post('/swipes/cards/retire', admin, swipes.retire);
  return r;
}
