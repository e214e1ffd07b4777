import type { Knex } from 'knex';

/** A school's SMS service periods (簡訊服務) with a fee in NT$ per item (到校SMS, 離校SMS). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('service_periods', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.text('name').notNullable();
    t.date('starts_on').notNullable();
    t.date('ends_on').notNullable();
    t.integer('arrival_fee').notNullable();
    t.integer('departure_fee').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['school_id', 'name']);
    t.index(['school_id', 'starts_on']);
    t.check('ends_on >= starts_on', [], 'service_periods_dates_check');
    t.check('arrival_fee between 0 and 100000 and departure_fee between 0 and 100000', [], 'service_periods_fee_check');
    t.check('length(name) between 1 and 60', [], 'service_periods_name_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('service_periods');
}
