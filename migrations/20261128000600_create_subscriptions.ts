import type { Knex } from 'knex';

/**
 * A subscription: one student × one service period × the chosen items. `status` is written only by the
 * subscription service; `effective_on` is the day an approved order starts, `ends_on_effective` the day an
 * approved cancellation stops it. A student has at most one live subscription per period.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('subscriptions', (t) => {
    t.increments('id');
    t.integer('student_id').notNullable().references('id').inTable('students');
    t.integer('period_id').notNullable().references('id').inTable('service_periods');
    t.boolean('arrival').notNullable();
    t.boolean('departure').notNullable();
    t.text('status').notNullable();
    t.integer('applicant_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.text('applicant_name').notNullable();
    t.date('applied_on').notNullable();
    t.date('effective_on');
    t.date('cancelled_on');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['student_id']);
    t.index(['period_id', 'status']);
    t.check(
      "status in ('pending','active','cancel_pending','cancelled','rejected','withdrawn')",
      [],
      'subscriptions_status_check',
    );
    t.check('arrival or departure', [], 'subscriptions_items_check');
    t.check("status <> 'cancelled' or cancelled_on is not null", [], 'subscriptions_cancelled_on_check');
  });
  await knex.raw(
    `create unique index subscriptions_one_live_per_period on subscriptions (student_id, period_id)
     where status in ('pending','active','cancel_pending')`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('subscriptions');
}
