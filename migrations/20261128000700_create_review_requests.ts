import type { Knex } from 'knex';

/**
 * Orders and cancellations waiting for (or decided by) a teacher or school admin, with the decision, its
 * reason, the effective date and, for an approved cancellation, the refund and when it was paid.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('review_requests', (t) => {
    t.increments('id');
    t.integer('subscription_id').notNullable().references('id').inTable('subscriptions').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('requested_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.text('requested_by_name').notNullable();
    t.date('requested_on').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('decided_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.timestamp('decided_at', { useTz: true });
    t.text('decision_reason');
    t.date('effective_on');
    t.integer('refund_amount');
    t.date('refund_paid_on');
    t.integer('refund_paid_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.index(['subscription_id']);
    t.index(['status', 'kind']);
    t.check("kind in ('order','cancellation')", [], 'review_requests_kind_check');
    t.check("status in ('pending','approved','rejected','withdrawn')", [], 'review_requests_status_check');
    t.check("status <> 'rejected' or length(decision_reason) > 0", [], 'review_requests_reason_check');
    t.check("status <> 'approved' or effective_on is not null", [], 'review_requests_effective_check');
    t.check('refund_amount is null or refund_amount >= 0', [], 'review_requests_refund_check');
    t.check(
      "refund_paid_on is null or (kind = 'cancellation' and status = 'approved')",
      [],
      'review_requests_refund_paid_check',
    );
  });
  await knex.raw(
    `create unique index review_requests_one_open on review_requests (subscription_id) where status = 'pending'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('review_requests');
}
