import type { Knex } from 'knex';

/**
 * A school's students as (class, id) pairs from the index alone: the school office's scope (visibleStudentIds:
 * `students where school_id = ?`) and 統計報表's enrolled students per 學年度 read ≈ 12 index pages instead of one
 * heap page per student (a city's schools' students lie interleaved on ≈ 2,000 pages per school, issue 14).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index students_school_class_id on students (school_id, class_id, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index students_school_class_id');
}
