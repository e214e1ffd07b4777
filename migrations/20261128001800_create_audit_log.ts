import type { Knex } from 'knex';

/** Who did what to what: sign-ins, failures, locks, password changes and resets, refunds, messages, … */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('actor_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.integer('school_id').references('id').inTable('schools');
    t.text('action').notNullable();
    t.text('target_type');
    t.text('target_id');
    t.text('ip');
    t.text('request_id');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['actor_account_id', 'at']);
    t.index(['school_id', 'at']);
    t.index(['action', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
}
