import type { Knex } from 'knex';

/**
 * The 審核 badge on every staff page counts the pending requests of a school (the office) or of a teacher's
 * classes (src/domain/subscriptions/review-count.ts). This partial index holds only the pending requests, by
 * school, so the count reads a school's few dozen entries instead of probing every subscription of the school.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "create index review_requests_pending_by_school on review_requests (school_id, subscription_id) where status = 'pending'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index review_requests_pending_by_school');
}
