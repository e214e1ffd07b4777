import type { Knex } from 'knex';

/** Student cards with validity dates (a lost card is retired, a new one issued) and the gate readers. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cards', (t) => {
    t.increments('id');
    t.text('card_uid').notNullable();
    t.integer('student_id').notNullable().references('id').inTable('students').onDelete('CASCADE');
    t.date('valid_from').notNullable();
    t.date('valid_until');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['card_uid']);
    t.index(['student_id']);
    t.check('valid_until is null or valid_until >= valid_from', [], 'cards_validity_check');
    t.check("card_uid ~ '^[0-9A-Za-z:-]{1,64}$'", [], 'cards_uid_check');
  });
  await knex.schema.createTable('card_readers', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.text('name').notNullable();
    t.text('token_hash').notNullable().unique();
    t.text('token_prefix').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_seen_at', { useTz: true });
    t.unique(['school_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('card_readers');
  await knex.schema.dropTable('cards');
}
