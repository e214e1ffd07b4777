import type { Request, Response } from 'express';
import { depsOf, userOf } from '../deps.js';
import { classSummaries, studentGrid } from '../domain/attendance/records.js';
import { homeExtras } from '../domain/announcements/home-extras.js';
import { addDays } from '../domain/time.js';
import { listDecisionNotices } from '../domain/subscriptions/decision-notices.js';
import { decisionLabel, itemsLabel } from '../domain/subscriptions/lifecycle.js';
import { REVIEW_OVERDUE_SCHOOL_DAYS, reviewReminders } from '../domain/subscriptions/review-reminders.js';
import { NO_TEACHER_WARNING } from '../domain/schools/class-teachers.js';

/** The 出勤統計 window: the 7 days ending today. */
export const HOME_WINDOW_DAYS = 7;

/**
 * GET / — 首頁. A parent sees the current child's 出勤統計 of the last 7 days; staff see today's summary of
 * their classes (arrived / 未刷卡).
 */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const today = clock.today();
  const from = addDays(today, -(HOME_WINDOW_DAYS - 1));
  // Latest announcements; for staff, pending reviews and today's SMS — read alongside the page's own data.
  const extrasLoad = homeExtras(db.knex, user, clock.now(), today);
  if (user.role === 'parent') {
    // The current child was loaded with the user this request, through the parent's own links (the same scope
    // as visibleStudentIds): no second look-up.
    const child = user.currentChild;
    const [extras, rows, decisionNotices] = await Promise.all([
      extrasLoad,
      child ? studentGrid(db.knex, child, from, today) : [],
      listDecisionNotices(db.knex, user),
    ]);
    res.render('home/index', {
      title: '首頁',
      attendance: { hasChild: child !== undefined, rows, from, to: today },
      summaries: undefined,
      today,
      homeExtras: extras,
      decisionNotices,
      decisionLabel,
      itemsLabel,
    });
    return;
  }
  const [summaries, extras, reminders] = await Promise.all([
    classSummaries(db.knex, user, today),
    extrasLoad,
    reviewReminders(db.knex, user, today),
  ]);
  res.render('home/index', {
    title: '首頁',
    attendance: undefined,
    summaries,
    today,
    homeExtras: extras,
    reminders,
    overdueDays: REVIEW_OVERDUE_SCHOOL_DAYS,
    noTeacherWarning: NO_TEACHER_WARNING,
  });
}

/** GET /password-help — 忘記密碼 */
export function passwordHelp(_req: Request, res: Response): void {
  res.render('home/password-help', { title: '忘記密碼' });
}
