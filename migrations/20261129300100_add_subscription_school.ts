import type { Knex } from 'knex';

/**
 * The school of a subscription, so that a school's order and cancellation lists read that school's rows
 * through an index (school_id, id) instead of walking the whole city's primary key. It is always the
 * student's school: a trigger fills it on insert (every writer — the service, seeds, imports, bulk loads —
 * stays unchanged) and a student never changes school (a move is a new student row at the new school).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table subscriptions add column school_id integer references schools(id)');
  await knex.raw('update subscriptions s set school_id = st.school_id from students st where st.id = s.student_id');
  await knex.raw('alter table subscriptions alter column school_id set not null');
  await knex.raw(`
    create function subscriptions_set_school() returns trigger language plpgsql as $$
    begin
      select school_id into new.school_id from students where id = new.student_id;
      return new;
    end $$`);
  await knex.raw(`
    create trigger subscriptions_set_school before insert or update of student_id on subscriptions
    for each row execute function subscriptions_set_school()`);
  await knex.raw('create index subscriptions_school_id on subscriptions (school_id, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger subscriptions_set_school on subscriptions');
  await knex.raw('drop function subscriptions_set_school()');
  await knex.raw('alter table subscriptions drop column school_id');
}
