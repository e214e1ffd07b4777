import type { Knex } from 'knex';

/** A 補登 can be corrected (its time) or deleted; who last changed it and when (the old values go to audit_log). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manual_entries', (t) => {
    t.integer('updated_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.timestamp('updated_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manual_entries', (t) => {
    t.dropColumn('updated_by_account_id');
    t.dropColumn('updated_at');
  });
}
