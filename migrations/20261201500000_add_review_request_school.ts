import type { Knex } from 'knex';

/**
 * The school of a review request, so that 統計報表's 每週訂購與註銷申請 and 退費統計 read one school's requests of
 * the range through an index instead of probing `review_requests` once per subscription of the school (≈ 4,700
 * buffers each on the city). It is always the subscription's school (itself the student's, see
 * 20261129300100_add_subscription_school): a trigger fills it on insert, so every writer — the service, seeds,
 * demo:city's bulk load — stays unchanged, and a request never moves to another subscription.
 *
 * The indexes carry what the reports group by, so a school office's month is read from the index alone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table review_requests add column school_id integer references schools(id)');
  await knex.raw(
    'update review_requests r set school_id = s.school_id from subscriptions s where s.id = r.subscription_id',
  );
  await knex.raw('alter table review_requests alter column school_id set not null');
  await knex.raw(`
    create function review_requests_set_school() returns trigger language plpgsql as $$
    begin
      select school_id into new.school_id from subscriptions where id = new.subscription_id;
      return new;
    end $$`);
  await knex.raw(`
    create trigger review_requests_set_school before insert or update of subscription_id on review_requests
    for each row execute function review_requests_set_school()`);
  await knex.raw(
    'create index review_requests_school_requested on review_requests (school_id, requested_on) include (kind, status)',
  );
  await knex.raw(
    'create index review_requests_school_effective on review_requests (school_id, effective_on) include (kind, status)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger review_requests_set_school on review_requests');
  await knex.raw('drop function review_requests_set_school()');
  await knex.raw('alter table review_requests drop column school_id');
}
