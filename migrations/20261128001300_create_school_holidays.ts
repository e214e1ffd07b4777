import type { Knex } from 'knex';

/** Days a school is closed on a weekday (they drop out of the 出勤統計 grid). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('school_holidays', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools').onDelete('CASCADE');
    t.date('holiday_on').notNullable();
    t.text('name').notNullable();
    t.unique(['school_id', 'holiday_on']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('school_holidays');
}
