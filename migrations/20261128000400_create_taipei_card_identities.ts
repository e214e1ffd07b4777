import type { Knex } from 'knex';

/** Taipei Card (OpenID Connect) identities, keyed by (issuer, sub), linked to parent accounts. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('taipei_card_identities', (t) => {
    t.increments('id');
    t.text('issuer').notNullable();
    t.text('subject').notNullable();
    t.text('display_name');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_login_at', { useTz: true });
    t.unique(['issuer', 'subject']);
  });
  await knex.schema.createTable('taipei_card_links', (t) => {
    t.integer('identity_id').notNullable().references('id').inTable('taipei_card_identities').onDelete('CASCADE');
    t.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.timestamp('linked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['identity_id', 'account_id']);
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('taipei_card_links');
  await knex.schema.dropTable('taipei_card_identities');
}
