/** Extra states for the page-by-page checks, written as the subscription service stores them. */
import type { Knex } from 'knex';

/** A pending order (新增申請 waiting for the teacher) for a student with no subscription, e.g. 陳小美 11301002. */
export async function pendingOrder(knex: Knex, studentNumber: string, today: string): Promise<void> {
  const student = await knex('students').where({ student_number: studentNumber }).first('id', 'school_id');
  const period = await knex('service_periods')
    .where({ school_id: student.school_id })
    .orderBy('starts_on', 'desc')
    .first('id');
  const parent = await knex('accounts').where({ role: 'parent', login: studentNumber }).first('id', 'display_name');
  const [sub] = await knex('subscriptions')
    .insert({
      student_id: student.id,
      period_id: period.id,
      arrival: true,
      departure: false,
      status: 'pending',
      applicant_account_id: parent.id,
      applicant_name: parent.display_name,
      applied_on: today,
    })
    .returning('id');
  const [req] = await knex('review_requests')
    .insert({
      subscription_id: sub.id,
      kind: 'order',
      status: 'pending',
      requested_by_account_id: parent.id,
      requested_by_name: parent.display_name,
      requested_on: today,
    })
    .returning('id');
  await knex('subscription_events').insert({
    subscription_id: sub.id,
    request_id: req.id,
    event: 'order',
    from_status: null,
    to_status: 'pending',
    actor_account_id: parent.id,
    actor_role: 'parent',
    actor_name: parent.display_name,
  });
}
