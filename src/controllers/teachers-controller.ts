/** 教師與班級: the school office reads its teachers (帳號, 姓名, 狀態) and the classes each teaches (read-only). */
import type { Request, Response } from 'express';
import { depsOf, userOf } from '../deps.js';
import {
  ACCOUNT_STATE_LABELS,
  CLASS_TEACHER_LABELS,
  NO_TEACHER_WARNING,
  classesWithoutTeacher,
  teachersOfSchool,
} from '../domain/schools/class-teachers.js';
import { schoolYearOf } from '../domain/time.js';

/** GET /sms/teachers (school admins only: requireRole answers 404 to the others). */
export async function index(req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const { db, clock } = depsOf(req);
  const schoolYear = schoolYearOf(clock.today());
  const [teachers, without] = await Promise.all([
    teachersOfSchool(db.knex, user.schoolId),
    classesWithoutTeacher(db.knex, user.schoolId, schoolYear),
  ]);
  res.render('teachers/index', {
    title: '教師與班級',
    teachers,
    without,
    schoolYear,
    roleLabels: CLASS_TEACHER_LABELS,
    stateLabels: ACCOUNT_STATE_LABELS,
    noTeacherWarning: NO_TEACHER_WARNING,
  });
}
