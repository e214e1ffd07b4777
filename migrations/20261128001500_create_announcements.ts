import type { Knex } from 'knex';

/** 公告資訊服務: announcements from the bureau (no school: every school sees them) or from one school. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('announcements', (t) => {
    t.increments('id');
    t.integer('school_id').references('id').inTable('schools');
    t.text('title').notNullable();
    t.text('body').notNullable();
    t.boolean('pinned').notNullable().defaultTo(false);
    t.integer('author_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.text('author_name').notNullable();
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('withdrawn_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['school_id', 'published_at']);
    t.check('length(title) between 1 and 100', [], 'announcements_title_check');
    t.check('length(body) between 1 and 5000', [], 'announcements_body_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('announcements');
}
