import type { Knex } from 'knex';

/**
 * Registered mobile numbers (到離校簡訊註冊服務), at most 3 per student (enforced by the service under a lock),
 * stored as 09XXXXXXXX. A number receives notices only once verified with a 6-digit code (kept hashed).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('phones', (t) => {
    t.increments('id');
    t.integer('student_id').notNullable().references('id').inTable('students').onDelete('CASCADE');
    t.integer('registered_by_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.text('number').notNullable();
    t.timestamp('verified_at', { useTz: true });
    t.text('code_hash');
    t.timestamp('code_expires_at', { useTz: true });
    t.integer('code_attempts').notNullable().defaultTo(0);
    t.timestamp('code_sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['student_id', 'number']);
    t.check("number ~ '^09[0-9]{8}$'", [], 'phones_number_check');
    t.check('code_attempts between 0 and 100', [], 'phones_code_attempts_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('phones');
}
