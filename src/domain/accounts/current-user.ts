import type { Knex } from 'knex';

import type { Role } from '../vocabulary.js';
import { PENDING_REVIEW_COUNT_SQL } from '../subscriptions/review-count.js';

export type { Role };

export interface ChildSummary {
  id: number;
  name: string;
  studentNumber: string;
  schoolId: number;
  schoolName: string;
  classId: number;
  className: string;
}

/**
 * Who is signed in, loaded from the database on every request (so a disabled account or a removed class
 * takes effect at once). The scope of what this user may see is derived from it in SQL (see scope.ts).
 */
export interface CurrentUser {
  accountId: number;
  role: Role;
  login: string;
  displayName: string;
  schoolId: number;
  schoolName: string;
  mustChangePassword: boolean;
  /** Parent: the accounts whose children this session may see (one, or several linked to a Taipei Card). */
  accountIds: number[];
  /** Parent: the children, in a stable order. */
  children: ChildSummary[];
  /** Parent: the child the pages are about (the switcher), always one of `children`. */
  currentChild: ChildSummary | undefined;
  /** Teacher: the homeroom classes. */
  classIds: number[];
  identityId: number | undefined;
}

/**
 * The user's part of one statement, read from a one-row CTE `k(account_id int, identity_id int, account_ids
 * int[])` that the statement defines first (no row in `k`: no user). The account (not disabled) with its school,
 * and — by role — the parent's visible accounts and children (a Taipei Card session sees only the accounts still
 * linked to the card: an unlink takes effect at once, and if the signed-in account itself was unlinked the
 * session is over), the teacher's classes, and the staff's count of requests waiting for review (the 審核 badge of
 * the menu: the same rows as pendingReviewCount(), through the same `(school_id, id)` and
 * `(subscription_id, kind)` indexes). loadCurrentUser() runs it with the ids given; the session store runs it
 * in the same statement as the session's own read (src/middleware/session-store.ts), so that a signed-in
 * request reads its session, its user and its badge in one round trip.
 */
export const USER_CTES = `
  acc as (
    select a.id, a.role, a.login, a.display_name, a.school_id, a.must_change_password, sc.name as school_name,
      k.identity_id as k_identity_id, k.account_ids as k_account_ids
    from k join accounts a on a.id = k.account_id join schools sc on sc.id = a.school_id
    where a.disabled_at is null
  ),
  linked as (select account_id from taipei_card_links where identity_id = (select k_identity_id from acc)),
  ids as (
    select distinct u.id from acc, unnest(acc.k_account_ids) as u(id)
    where acc.role = 'parent' and (acc.k_identity_id is null or u.id in (select account_id from linked))
  )`;

/** The user's row (see USER_CTES): one row when the account may use the portal, none otherwise. */
export const USER_SELECT = `
  select acc.id, acc.role, acc.login, acc.display_name, acc.school_id, acc.must_change_password, acc.school_name,
    (acc.k_identity_id is null or acc.id in (select account_id from linked)) as still_linked,
    (select coalesce(array_agg(id order by id), '{}') from ids) as account_ids,
    case when acc.role = 'parent' then (
      select coalesce(json_agg(ch order by ch.id), '[]') from (
        select distinct st.id, st.name, st.student_number, st.school_id, csc.name as school_name, st.class_id, c.name as class_name
        from accounts pa
        join guardian_students gs on gs.guardian_id = pa.guardian_id
        join students st on st.id = gs.student_id
        join schools csc on csc.id = st.school_id
        join classes c on c.id = st.class_id
        where pa.id in (select id from ids) and pa.disabled_at is null
      ) ch)
    end as children,
    case when acc.role = 'teacher' then (
      select coalesce(array_agg(class_id order by class_id), '{}') from class_teachers where account_id = acc.id)
    end as class_ids,
    case when acc.role <> 'parent' then ${PENDING_REVIEW_COUNT_SQL} end as review_count
  from acc`;

/** loadCurrentUser's statement: the ids given as bindings. */
const USER_SQL = `
  with k as (select :accountId::int as account_id, :identityId::int as identity_id, :accountIds::int[] as account_ids),
  ${USER_CTES}
  ${USER_SELECT}`;

/** A row of USER_SELECT. */
export interface UserRow {
  id: number;
  role: Role;
  login: string;
  display_name: string;
  school_id: number;
  must_change_password: boolean;
  school_name: string;
  still_linked: boolean;
  account_ids: number[];
  children:
    | {
        id: number;
        name: string;
        student_number: string;
        school_id: number;
        school_name: string;
        class_id: number;
        class_name: string;
      }[]
    | null;
  class_ids: number[] | null;
  /** Staff: requests waiting for review (null for a parent). */
  review_count: number | null;
}

/** What of the session the user's statement and the user depend on. */
export interface UserKeys {
  accountId: number;
  accountIds?: number[] | undefined;
  studentId?: number | undefined;
  identityId?: number | undefined;
}

export async function loadCurrentUser(knex: Knex, s: UserKeys): Promise<CurrentUser | undefined> {
  const { rows } = await knex.raw<{ rows: UserRow[] }>(USER_SQL, {
    accountId: s.accountId,
    identityId: s.identityId ?? null,
    accountIds: [...new Set([s.accountId, ...(s.accountIds ?? [])])],
  });
  return currentUserOf(rows[0], s);
}

/** The user of a USER_SELECT row (undefined: no row, or a Taipei Card session whose account was unlinked). */
export function currentUserOf(account: UserRow | undefined, s: UserKeys): CurrentUser | undefined {
  if (!account) return undefined;
  if (account.role === 'parent' && !account.still_linked) return undefined;
  const user: CurrentUser = {
    accountId: account.id,
    role: account.role,
    login: account.login,
    displayName: account.display_name,
    schoolId: account.school_id,
    schoolName: account.school_name,
    mustChangePassword: account.must_change_password,
    accountIds: account.role === 'parent' ? account.account_ids : [],
    children: (account.children ?? []).map((r) => ({
      id: r.id,
      name: r.name,
      studentNumber: r.student_number,
      schoolId: r.school_id,
      schoolName: r.school_name,
      classId: r.class_id,
      className: r.class_name,
    })),
    currentChild: undefined,
    classIds: account.class_ids ?? [],
    identityId: s.identityId,
  };
  user.currentChild = user.children.find((c) => c.id === s.studentId) ?? user.children[0];
  return user;
}
