import type { Request, Response } from 'express';
import { depsOf, userOf } from '../deps.js';
import { parentHome, staffHome } from '../domain/announcements/home-extras.js';
import { addDays } from '../domain/time.js';
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
  if (user.role === 'parent') {
    // Announcements, the current child's grid and the decision notices: one statement.
    const child = user.currentChild;
    const home = await parentHome(db.knex, user, clock.now(), from, today);
    res.render('home/index', {
      title: '首頁',
      attendance: { hasChild: child !== undefined, rows: home.rows, from, to: today },
      summaries: undefined,
      today,
      homeExtras: home.homeExtras,
      decisionNotices: home.decisionNotices,
      decisionLabel,
      itemsLabel,
    });
    return;
  }
  // Today's class summary, the latest announcements and today's SMS in one statement; the reminders beside it.
  const [home, reminders] = await Promise.all([
    staffHome(db.knex, user, clock.now(), today),
    reviewReminders(db.knex, user, today),
  ]);
  res.render('home/index', {
    title: '首頁',
    attendance: undefined,
    summaries: home.summaries,
    today,
    homeExtras: home.homeExtras,
    reminders,
    overdueDays: REVIEW_OVERDUE_SCHOOL_DAYS,
    noTeacherWarning: NO_TEACHER_WARNING,
  });
}

/** GET /password-help — 忘記密碼 */
export function passwordHelp(_req: Request, res: Response): void {
  res.render('home/password-help', { title: '忘記密碼' });
}
