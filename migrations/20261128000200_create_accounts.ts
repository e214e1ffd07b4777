import type { Knex } from 'knex';

/**
 * Accounts sign in with (role, school, login). A parent account's login is a child's 學號 at that school and it
 * belongs to a guardian; staff accounts (teacher, school_admin) use their staff login.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('guardians', (t) => {
    t.increments('id');
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id');
    t.text('role').notNullable();
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.text('login').notNullable();
    t.text('display_name').notNullable();
    t.integer('guardian_id').references('id').inTable('guardians').onDelete('CASCADE');
    t.text('password_hash').notNullable();
    t.boolean('must_change_password').notNullable().defaultTo(true);
    t.timestamp('password_changed_at', { useTz: true });
    t.timestamp('locked_until', { useTz: true });
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.timestamp('disabled_at', { useTz: true });
    t.timestamp('last_login_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['role', 'school_id', 'login']);
    t.index(['guardian_id']);
    t.check("role in ('parent','teacher','school_admin')", [], 'accounts_role_check');
    t.check("(role = 'parent') = (guardian_id is not null)", [], 'accounts_guardian_check');
    t.check('length(login) between 1 and 64', [], 'accounts_login_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('accounts');
  await knex.schema.dropTable('guardians');
}
