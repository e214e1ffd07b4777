import type { Knex } from 'knex';

/** Districts (行政區), school levels (級別) and schools (學校). (code, level) is a school's natural key. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('districts', (t) => {
    t.increments('id');
    t.text('name').notNullable().unique();
    t.integer('sort_order').notNullable();
  });
  await knex.schema.createTable('school_levels', (t) => {
    t.text('code').primary();
    t.text('name').notNullable().unique();
    t.integer('sort_order').notNullable();
    t.check("code in ('elementary','junior_high','senior_high','vocational')", [], 'school_levels_code_check');
  });
  await knex.schema.createTable('schools', (t) => {
    t.increments('id');
    t.text('code').notNullable();
    t.text('level').notNullable().references('code').inTable('school_levels');
    t.text('name').notNullable();
    t.integer('district_id').notNullable().references('id').inTable('districts');
    t.unique(['code', 'level']);
    t.index(['district_id', 'level']);
    t.check("code ~ '^[0-9A-Za-z]{6}$'", [], 'schools_code_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schools');
  await knex.schema.dropTable('school_levels');
  await knex.schema.dropTable('districts');
}
