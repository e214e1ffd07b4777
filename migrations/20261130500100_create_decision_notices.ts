import type { Knex } from 'knex';

/**
 * Parents are told of each decision (DESIGN §3): when a teacher or the school office approves or rejects an
 * order or a cancellation, one notice per guardian of the student is written in the same transaction. The
 * parent's 首頁 shows it (what it says is read from the request: the effective date, the refund as stored,
 * the reason) until that guardian dismisses it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('decision_notices', (t) => {
    t.increments('id');
    t.integer('request_id').notNullable().references('id').inTable('review_requests').onDelete('CASCADE');
    t.integer('guardian_id').notNullable().references('id').inTable('guardians').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('dismissed_at', { useTz: true });
    t.integer('dismissed_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.unique(['request_id', 'guardian_id']);
  });
  // What 首頁 reads: a guardian's notices not yet dismissed.
  await knex.raw('create index decision_notices_open on decision_notices (guardian_id, id) where dismissed_at is null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('decision_notices');
}
