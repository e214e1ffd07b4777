import type { Knex } from 'knex';

/**
 * 每日刷卡涵蓋率 counts a school's student-days from attendance_days: an index on (school_id, day) that also
 * carries student_id lets PostgreSQL count them from the index alone (an index-only scan) instead of visiting
 * one heap page per student-day. It replaces the plain (school_id, day) index, which it serves as well.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index attendance_days_school_day on attendance_days (school_id, day) include (student_id)');
  await knex.raw('drop index attendance_days_school_id_day_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index attendance_days_school_id_day_index on attendance_days (school_id, day)');
  await knex.raw('drop index attendance_days_school_day');
}
