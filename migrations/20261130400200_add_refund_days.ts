import type { Knex } from 'knex';

/**
 * The school days an approved cancellation's refund (退費) counts: S from its effective date to the period's end
 * and P of the whole period, stored beside refund_amount when it is approved (DESIGN §3).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('review_requests', (t) => {
    t.integer('refund_days');
    t.integer('refund_period_days');
    t.check(
      'refund_days is null or (refund_days >= 0 and refund_period_days >= refund_days)',
      [],
      'review_requests_refund_days_check',
    );
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('review_requests', (t) => {
    t.dropChecks(['review_requests_refund_days_check']);
    t.dropColumn('refund_days');
    t.dropColumn('refund_period_days');
  });
}
