import type { Knex } from 'knex';

/**
 * Card swipes as the readers post them. (reader, event_id) makes a retry idempotent. A swipe whose card is
 * unknown or retired is kept with no student (unmatched) until the school resolves it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('swipes', (t) => {
    t.bigIncrements('id');
    t.integer('reader_id').notNullable().references('id').inTable('card_readers');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.text('event_id').notNullable();
    t.text('card_uid').notNullable();
    t.timestamp('swiped_at', { useTz: true }).notNullable();
    t.date('swipe_date').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.integer('student_id').references('id').inTable('students').onDelete('SET NULL');
    t.timestamp('resolved_at', { useTz: true });
    t.integer('resolved_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.unique(['reader_id', 'event_id']);
    t.index(['student_id', 'swipe_date']);
    t.index(['school_id', 'swipe_date']);
  });
  await knex.raw(
    'create index swipes_unmatched on swipes (school_id, swiped_at) where student_id is null and resolved_at is null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('swipes');
}
