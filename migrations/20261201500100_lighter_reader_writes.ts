import type { Knex } from 'knex';

/**
 * One index fewer written per reader API swipe (issue 14: a batch of 500 swipes writes 500 index entries per
 * index of `swipes`). `swipes (school_id, swipe_date)` is read by nothing: a student's day is read through
 * `(student_id, swipe_date)`, a school's unmatched swipes through the partial `swipes_unmatched`, a school's days
 * through `attendance_days (school_id, day)`. (71 MB on the city.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index swipes_school_id_swipe_date_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index swipes_school_id_swipe_date_index on swipes (school_id, swipe_date)');
}
