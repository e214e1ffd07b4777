import type { Knex } from 'knex';
import type { Role } from './current-user.js';
import { verifyPassword } from './passwords.js';

export interface Credentials {
  role: Role;
  schoolId: number;
  login: string;
  password: string;
}

/**
 * The account for these credentials, or undefined. The account is looked up by (role, school, login) only:
 * role and school are lookup keys, never privileges. An unknown account still costs one bcrypt compare.
 */
export async function authenticate(
  knex: Knex,
  c: Credentials,
): Promise<{ id: number; role: Role; schoolId: number } | undefined> {
  const account = await knex('accounts')
    .where({ role: c.role, school_id: c.schoolId, login: c.login })
    .whereNull('disabled_at')
    .first('id', 'role', 'school_id', 'password_hash');
  const ok = await verifyPassword(c.password, account?.password_hash);
  return ok && account ? { id: account.id, role: account.role, schoolId: account.school_id } : undefined;
}

/** One rule for what people type as 帳號: Unicode NFKC (full-width → half-width), trimmed. */
export function normalizeLogin(value: string): string {
  return value.normalize('NFKC').trim();
}
