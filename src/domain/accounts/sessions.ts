import type { Knex } from 'knex';

/**
 * End every stored session of an account (signed in with its password, or through a Taipei Card that opens it),
 * except `keepSid`. Sessions live in the `session` table (connect-pg-simple's layout, json column `sess`: session-store.ts).
 */
export async function endSessionsOf(knex: Knex, accountId: number, keepSid?: string): Promise<number> {
  const q = knex('session').where((w) =>
    w
      .whereRaw(`(sess->>'accountId') = ?`, [String(accountId)])
      .orWhereRaw(`coalesce((sess::jsonb)->'accountIds', '[]'::jsonb) @> to_jsonb(?::int)`, [accountId]),
  );
  if (keepSid) q.whereNot('sid', keepSid);
  return q.del();
}
