/**
 * The 審核 badge: how many requests wait for this staff member's decision — the school office's whole school, a
 * teacher's own classes (a 導師 or 副導師). One SQL expression over a row `acc` with the account's `id`, `role`
 * and `school_id`: the session store's statement reads it with the session (current-user.ts USER_SELECT) and
 * `pendingReviewCount` reads it alone, so the two cannot disagree.
 *
 * It counts from `review_requests` itself through the partial index of pending requests by school
 * (`review_requests_pending_by_school`: `(school_id, subscription_id) where status = 'pending'`), so the office's
 * count reads only its school's pending requests, not a look-up per subscription of the school.
 */
export const PENDING_REVIEW_COUNT_SQL = `(
  select count(*)::int from review_requests pr
  where pr.school_id = acc.school_id and pr.status = 'pending'
    and (acc.role = 'school_admin' or pr.subscription_id in (
      select ps.id from subscriptions ps
      join students pst on pst.id = ps.student_id
      join class_teachers pct on pct.class_id = pst.class_id
      where pct.account_id = acc.id and ps.school_id = acc.school_id)))`;
