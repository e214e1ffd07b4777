import type { Knex } from 'knex';

/**
 * The school calendar: holidays as named ranges (寒假 2027-01-21~2027-02-10, or a single day), each expanded
 * into one `school_holidays` row per day (so every count of school days stays a plain indexed lookup), and
 * the dismissal start per weekday (a swipe at a `both` reader counts as a departure only from then on).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('school_holiday_ranges', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools').onDelete('CASCADE');
    t.date('starts_on').notNullable();
    t.date('ends_on').notNullable();
    t.text('name').notNullable();
    t.integer('created_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['school_id', 'starts_on']);
    t.check('ends_on >= starts_on', [], 'school_holiday_ranges_order_check');
    t.check('ends_on - starts_on < 366', [], 'school_holiday_ranges_length_check');
    t.check('length(name) between 1 and 50', [], 'school_holiday_ranges_name_check');
  });
  await knex.schema.alterTable('school_holidays', (t) => {
    t.integer('range_id').references('id').inTable('school_holiday_ranges').onDelete('CASCADE');
  });
  // Every existing day becomes a one-day range of its own.
  await knex.raw(`
    with made as (
      insert into school_holiday_ranges (school_id, starts_on, ends_on, name)
      select school_id, holiday_on, holiday_on, name from school_holidays order by id
      returning id, school_id, starts_on
    )
    update school_holidays h set range_id = made.id
      from made where made.school_id = h.school_id and made.starts_on = h.holiday_on`);
  await knex.raw('alter table school_holidays alter column range_id set not null');
  await knex.schema.alterTable('school_holidays', (t) => t.index(['range_id']));

  await knex.schema.createTable('school_dismissal_times', (t) => {
    t.integer('school_id').notNullable().references('id').inTable('schools').onDelete('CASCADE');
    /** ISO weekday: 1 = Monday … 5 = Friday. */
    t.smallint('weekday').notNullable();
    /** `HH:mm`, Taipei wall clock. */
    t.text('starts_at').notNullable();
    t.integer('updated_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['school_id', 'weekday']);
    t.check('weekday between 1 and 5', [], 'school_dismissal_times_weekday_check');
    t.check("starts_at ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'", [], 'school_dismissal_times_time_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('school_dismissal_times');
  await knex.schema.alterTable('school_holidays', (t) => {
    t.dropIndex(['range_id']);
    t.dropColumn('range_id');
  });
  await knex.schema.dropTable('school_holiday_ranges');
}
