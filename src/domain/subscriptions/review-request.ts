/** One review request (申請 waiting for 審核) as the 退回 page shows it, scoped in its SQL: another's is not found. */
import type { Knex } from 'knex';
import type { CurrentUser } from '../accounts/current-user.js';
import { NotFoundError } from '../errors.js';
import { visibleStudentIds } from '../scope.js';

export async function reviewRequestOf(knex: Knex, user: CurrentUser, requestId: number) {
  const row = await knex('review_requests as r')
    .join('subscriptions as s', 's.id', 'r.subscription_id')
    .join('students as st', 'st.id', 's.student_id')
    .join('classes as c', 'c.id', 'st.class_id')
    .join('service_periods as p', 'p.id', 's.period_id')
    .where('r.id', requestId)
    .whereIn('s.student_id', visibleStudentIds(knex, user))
    .first(
      'r.id',
      'r.kind',
      'r.status',
      'r.requested_by_name',
      'r.requested_on',
      's.arrival',
      's.departure',
      'st.name as student_name',
      'st.student_number',
      'st.seat_number',
      'c.name as class_name',
      'p.name as period_name',
      'p.starts_on',
      'p.ends_on',
    );
  if (!row) throw new NotFoundError();
  return row;
}
