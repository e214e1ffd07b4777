import type { Knex } from 'knex';

/**
 * The school's order and cancellation lists count and page a school's subscriptions in id order. A school's
 * subscriptions are written over the year among every other school's (parents order when they order), so
 * their rows lie on as many heap pages as they are rows: an index that also carries what the lists' joins and
 * state filters read (the student, the period, the state) lets PostgreSQL count them and find a page's ids
 * from the index alone (an index-only scan), then read only the 50 rows it shows. It replaces the plain
 * (school_id, id) index, which it serves as well.
 *
 * Likewise the requests of those subscriptions (註銷服務 lists a school's cancellation requests, 審核 its pending
 * ones): an index on (subscription_id, kind) carrying the state and the id answers "this subscription's
 * cancellation requests" from the index, so the school's path wins over reading every school's requests of that
 * kind through (status, kind). It replaces the plain (subscription_id) index (the foreign key's), which it serves.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'create index subscriptions_school_list on subscriptions (school_id, id) include (student_id, period_id, status)',
  );
  await knex.raw('drop index subscriptions_school_id');
  await knex.raw(
    'create index review_requests_subscription_kind on review_requests (subscription_id, kind) include (status, id)',
  );
  await knex.raw('drop index review_requests_subscription_id_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index review_requests_subscription_id_index on review_requests (subscription_id)');
  await knex.raw('drop index review_requests_subscription_kind');
  await knex.raw('create index subscriptions_school_id on subscriptions (school_id, id)');
  await knex.raw('drop index subscriptions_school_list');
}
