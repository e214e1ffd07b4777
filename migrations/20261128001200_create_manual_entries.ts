import type { Knex } from 'knex';

/** 補登: an arrival or departure time recorded by staff, with the reason and who entered it. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('manual_entries', (t) => {
    t.increments('id');
    t.integer('student_id').notNullable().references('id').inTable('students').onDelete('CASCADE');
    t.date('entry_date').notNullable();
    t.text('direction').notNullable();
    t.text('entry_time').notNullable();
    t.text('reason').notNullable();
    t.integer('entered_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['student_id', 'entry_date']);
    t.check("direction in ('arrival','departure')", [], 'manual_entries_direction_check');
    t.check("entry_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'", [], 'manual_entries_time_check');
    t.check('length(reason) between 1 and 200', [], 'manual_entries_reason_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('manual_entries');
}
