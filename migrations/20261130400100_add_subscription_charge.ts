import type { Knex } from 'knex';

/**
 * What an approved order is charged, fixed at its approval (DESIGN §3): the amount for its school days,
 * floor(fee of the items × S ÷ P), with S (the school days it pays for) and P (the period's school days), so the
 * parent, the teacher and the office read the same figure with the days counted even if the calendar changes
 * later. Null on a subscription approved before this rule (it was charged the whole fee).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.integer('charge_amount');
    t.integer('charge_days');
    t.integer('charge_period_days');
    t.check(
      'charge_amount is null or (charge_amount >= 0 and charge_days >= 0 and charge_period_days >= charge_days)',
      [],
      'subscriptions_charge_check',
    );
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.dropChecks(['subscriptions_charge_check']);
    t.dropColumn('charge_amount');
    t.dropColumn('charge_days');
    t.dropColumn('charge_period_days');
  });
}
