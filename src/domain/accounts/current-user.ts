import type { Knex } from 'knex';

export type Role = 'parent' | 'teacher' | 'school_admin';

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

export async function loadCurrentUser(
  knex: Knex,
  s: { accountId: number; accountIds?: number[] | undefined; studentId?: number | undefined; identityId?: number | undefined },
): Promise<CurrentUser | undefined> {
  const account = await knex('accounts as a')
    .join('schools as sc', 'sc.id', 'a.school_id')
    .where('a.id', s.accountId)
    .whereNull('a.disabled_at')
    .first(
      'a.id',
      'a.role',
      'a.login',
      'a.display_name',
      'a.school_id',
      'a.must_change_password',
      'sc.name as school_name',
    );
  if (!account) return undefined;
  const user: CurrentUser = {
    accountId: account.id,
    role: account.role,
    login: account.login,
    displayName: account.display_name,
    schoolId: account.school_id,
    schoolName: account.school_name,
    mustChangePassword: account.must_change_password,
    accountIds: [],
    children: [],
    currentChild: undefined,
    classIds: [],
    identityId: s.identityId,
  };
  if (user.role === 'parent') {
    let ids = [...new Set([account.id as number, ...(s.accountIds ?? [])])];
    if (s.identityId !== undefined) {
      // A Taipei Card session sees only the accounts still linked to the card: an unlink takes effect at once
      // (and if the signed-in account itself was unlinked, the session is over).
      const linked = new Set(
        (await knex('taipei_card_links').where('identity_id', s.identityId).pluck('account_id')) as number[],
      );
      if (!linked.has(account.id)) return undefined;
      ids = ids.filter((id) => linked.has(id));
    }
    user.accountIds = ids;
    const rows = await knex('accounts as a')
      .join('guardian_students as gs', 'gs.guardian_id', 'a.guardian_id')
      .join('students as st', 'st.id', 'gs.student_id')
      .join('schools as sc', 'sc.id', 'st.school_id')
      .join('classes as c', 'c.id', 'st.class_id')
      .whereIn('a.id', ids)
      .whereNull('a.disabled_at')
      .distinct(
        'st.id',
        'st.name',
        'st.student_number',
        'st.school_id',
        'sc.name as school_name',
        'st.class_id',
        'c.name as class_name',
      )
      .orderBy('st.id');
    user.children = rows.map((r) => ({
      id: r.id,
      name: r.name,
      studentNumber: r.student_number,
      schoolId: r.school_id,
      schoolName: r.school_name,
      classId: r.class_id,
      className: r.class_name,
    }));
    user.currentChild = user.children.find((c) => c.id === s.studentId) ?? user.children[0];
  } else if (user.role === 'teacher') {
    user.classIds = (await knex('class_teachers').where('account_id', user.accountId).pluck('class_id')) as number[];
  }
  return user;
}
