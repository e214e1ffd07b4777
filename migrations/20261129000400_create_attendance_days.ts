import type { Knex } from 'knex';
import { loadConfig } from '../src/config.js';
import { refreshDays } from '../src/domain/attendance/days.js';

/**
 * The computed day of each student (到校時間 / 離校時間, see src/domain/attendance/days.ts), kept up to date by
 * every writer of a record, so that the SMS and every page read one answer and a page reads one row per
 * student-day. Filled here from the records already stored, with the rules of this release.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attendance_days', (t) => {
    t.integer('student_id').notNullable().references('id').inTable('students').onDelete('CASCADE');
    t.date('day').notNullable();
    t.integer('school_id').notNullable().references('id').inTable('schools').onDelete('CASCADE');
    t.text('arrival_time');
    t.boolean('arrival_manual').notNullable().defaultTo(false);
    t.text('departure_time');
    t.boolean('departure_manual').notNullable().defaultTo(false);
    t.primary(['student_id', 'day']);
    t.index(['school_id', 'day']);
  });
  // Backfill in chunks of student-days that have a record.
  let departureMinMinutes = 10;
  try {
    departureMinMinutes = loadConfig(process.env).attendance.departureMinMinutes;
  } catch {
    // settings that do not parse here are reported by the start itself; the default rule fills the table
  }
  let last: { student_id: number; day: string } | undefined;
  for (;;) {
    const keys = (
      await knex.raw<{ rows: { student_id: number; day: string }[] }>(
        `select student_id, day from (
           select student_id, swipe_date as day from swipes where student_id is not null
           union select student_id, entry_date from manual_entries) k
         ${last ? 'where (student_id, day) > (?, ?::date)' : ''}
         order by student_id, day limit 5000`,
        last ? [last.student_id, last.day] : [],
      )
    ).rows;
    if (keys.length === 0) break;
    // The daily figures refreshDays also keeps do not exist yet: 20261130100100_create_daily_figures fills them.
    await refreshDays(
      knex,
      keys.map((k) => ({ studentId: k.student_id, date: k.day })),
      { departureMinMinutes, withoutFigures: true },
    );
    last = keys[keys.length - 1];
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('attendance_days');
}
