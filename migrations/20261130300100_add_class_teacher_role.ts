import type { Knex } from 'knex';

/**
 * A class has a homeroom teacher (導師) and may have a deputy (副導師); both review its requests and both see
 * it as one of "my classes". One of each per class: assigning another replaces the previous one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table class_teachers add column role text not null default 'homeroom'`);
  await knex.raw(
    `alter table class_teachers add constraint class_teachers_role_check check (role in ('homeroom', 'deputy'))`,
  );
  await knex.raw('create unique index class_teachers_class_role on class_teachers (class_id, role)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index class_teachers_class_role');
  await knex.raw('alter table class_teachers drop column role');
}
