import type { Knex } from 'knex';

/** The history of every transition: who, in which role, when, from which state to which, and why. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('subscription_events', (t) => {
    t.bigIncrements('id');
    t.integer('subscription_id').notNullable().references('id').inTable('subscriptions').onDelete('CASCADE');
    t.integer('request_id').references('id').inTable('review_requests').onDelete('CASCADE');
    t.text('event').notNullable();
    t.text('from_status');
    t.text('to_status').notNullable();
    t.integer('actor_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.text('actor_role').notNullable();
    t.text('actor_name').notNullable();
    t.text('reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['subscription_id']);
    t.index(['request_id']);
    t.check("event in ('order','approve','reject','cancel','withdraw')", [], 'subscription_events_event_check');
    t.check("actor_role in ('parent','teacher','school_admin','system')", [], 'subscription_events_role_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('subscription_events');
}
