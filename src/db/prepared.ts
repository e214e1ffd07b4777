/**
 * Prepared statements through Knex. A statement marked with `prepared(query)` is sent as a named statement
 * whose name is derived from its SQL text, so each pooled connection parses and plans it once and then only
 * binds and runs it: on a PostgreSQL server the planning of a many-table statement costs more than running it
 * (the parent's 首頁: 0.1–4 ms of planning against 0.01–0.2 ms of execution per statement at city scale).
 *
 * Mark only statements whose best plan does not depend on the values bound (key look-ups by an account's,
 * student's or school's id): after five executions PostgreSQL may keep one generic plan for the statement.
 *
 * Where one backend serves several connections — the embedded PGlite, reached by the portal, the tests and child
 * processes through one URL — a name prepared by one connection exists for the others (42P05): the first such
 * refusal turns naming off for that Knex, and the statement is sent again unnamed.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

const MARK = 'portalPrepared';
const DUPLICATE_PREPARED_STATEMENT = '42P05';

/** Mark a query (builder or raw) to be sent as a named statement on a server. Returns the same query. */
export function prepared<Q extends Knex.QueryBuilder | Knex.Raw>(query: Q): Q {
  (query as unknown as { options(o: object): unknown }).options({ [MARK]: true });
  return query;
}

interface QueryObject {
  sql: string;
  options?: Record<string, unknown>;
}
type PgQuery = (connection: unknown, obj: QueryObject) => Promise<unknown>;

/**
 * Teach a Knex on the `pg` client to send marked statements named (`namedStatements`: false for the embedded
 * database opened in this process, where it is known up front).
 */
export function enablePreparedStatements(knex: Knex, namedStatements: boolean): void {
  const client = knex.client as { _query: PgQuery };
  const send = client._query.bind(client);
  let naming = namedStatements;
  client._query = async (connection, obj) => {
    const options = obj.options;
    if (!options?.[MARK]) return send(connection, obj);
    const { [MARK]: _mark, ...rest } = options;
    if (!naming) return send(connection, { ...obj, options: rest });
    const name = `p_${createHash('sha1').update(obj.sql).digest('base64url').slice(0, 22)}`;
    try {
      return await send(connection, { ...obj, options: { ...rest, name } });
    } catch (err) {
      if ((err as { code?: unknown }).code !== DUPLICATE_PREPARED_STATEMENT) throw err;
      naming = false;
      return send(connection, { ...obj, options: rest });
    }
  };
}
