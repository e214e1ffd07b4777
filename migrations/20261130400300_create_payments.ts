import type { Knex } from 'knex';

/**
 * 繳費: the school office records that an approved order was paid, on a date, with a 收據號碼 from the school's
 * own sequence. The sequence is a counter row per school, incremented in the payment's transaction (its row lock
 * serialises concurrent payments; a rolled-back payment rolls its number back): no gaps, no duplicates — unlike a
 * PostgreSQL SEQUENCE, which never gives a number back. One payment per subscription.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('receipt_counters', (t) => {
    t.integer('school_id').primary().references('id').inTable('schools');
    t.integer('last_number').notNullable();
    t.check('last_number >= 1', [], 'receipt_counters_last_number_check');
  });
  await knex.schema.createTable('payments', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.integer('subscription_id').notNullable().unique().references('id').inTable('subscriptions').onDelete('CASCADE');
    t.integer('receipt_number').notNullable();
    t.date('paid_on').notNullable();
    t.integer('amount').notNullable();
    t.integer('recorded_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['school_id', 'receipt_number']);
    t.check('receipt_number >= 1', [], 'payments_receipt_number_check');
    t.check('amount >= 0', [], 'payments_amount_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('payments');
  await knex.schema.dropTable('receipt_counters');
}
