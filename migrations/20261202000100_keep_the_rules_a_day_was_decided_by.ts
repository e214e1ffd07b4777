import type { Knex } from 'knex';

/**
 * A day's departure, once decided and sent by SMS, stays what every page shows when the school office later
 * changes a weekday's dismissal start or a reader's direction (src/domain/attendance/days.ts):
 *
 * - `swipes.reader_direction`: the direction of the reader when the swipe was stored. A change of the reader's
 *   direction applies to the swipes recorded from then on. Empty for swipes stored before this column: those
 *   follow the reader's current direction, as they did until now.
 * - `attendance_days.dismissal_start`: the dismissal start (`HH:mm`) the stored day was computed with. While the
 *   day has a departure it is computed with this time again (a later swipe, a 補登 or its correction); a day
 *   without a departure takes the school's setting of the moment. Empty for days stored before this column.
 *
 * Both are nullable additions without a default, their checks NOT VALID: no rewrite or scan of the (large) tables.
 */
export async function up(knex: Knex): Promise<void> {
  // NOT VALID: the existing rows are all empty in the new column; new rows are checked.
  await knex.raw(
    `alter table swipes add column reader_direction text,
       add constraint swipes_reader_direction_check check (reader_direction in ('in','out','both')) not valid`,
  );
  await knex.raw(
    `alter table attendance_days add column dismissal_start text,
       add constraint attendance_days_dismissal_start_check
         check (dismissal_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$') not valid`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('attendance_days', (t) => {
    t.dropChecks(['attendance_days_dismissal_start_check']);
    t.dropColumn('dismissal_start');
  });
  await knex.schema.alterTable('swipes', (t) => {
    t.dropChecks(['swipes_reader_direction_check']);
    t.dropColumn('reader_direction');
  });
}
