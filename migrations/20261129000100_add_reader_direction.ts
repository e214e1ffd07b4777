import type { Knex } from 'knex';

/**
 * The direction of a gate reader: `in` (its swipes are never a departure), `out` (its swipes are departures,
 * whatever the hour) or `both` (a departure only from the school's dismissal start on).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('card_readers', (t) => {
    t.text('direction').notNullable().defaultTo('both');
    t.check("direction in ('in','out','both')", [], 'card_readers_direction_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('card_readers', (t) => {
    t.dropChecks(['card_readers_direction_check']);
    t.dropColumn('direction');
  });
}
