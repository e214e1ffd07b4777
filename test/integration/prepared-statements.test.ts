import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connect } from '../../src/db/connection.js';
import { prepared } from '../../src/db/prepared.js';

// Two pools of one connection each on the test database: on a server each is its own backend; on the embedded
// PGlite both reach the one backend it has (the case where a second Parse of a name is refused).
const url = inject('databaseUrl');
const a = connect(url, { dbPoolMax: 1, dbStatementTimeoutMs: 30_000 });
const b = connect(url, { dbPoolMax: 1, dbStatementTimeoutMs: 30_000 });
afterAll(async () => {
  await a.knex.destroy();
  await b.knex.destroy();
});

const statement = (knex: typeof a.knex, n: number) =>
  prepared(knex.raw<{ rows: { n: number }[] }>('select ?::int + 1 as n /* prepared-statement test */', [n]));

const namedHere = async (knex: typeof a.knex) =>
  (
    await knex.raw<{ rows: { name: string; statement: string }[] }>(
      `select name, statement from pg_prepared_statements where statement like '%prepared-statement test%' and statement not like '%pg_prepared_statements%'`,
    )
  ).rows;

describe('prepared(query): a named statement, parsed once per connection', () => {
  it('answers with its values bound, the same on each run and on two connections', async () => {
    for (const n of [1, 2, 41]) {
      expect((await statement(a.knex, n)).rows[0]!.n).toBe(n + 1);
      expect((await statement(b.knex, n)).rows[0]!.n).toBe(n + 1);
    }
    // A transaction's statements are sent unnamed (the mark is ignored), with the same answer.
    await a.knex.transaction(async (trx) => expect((await statement(trx, 9)).rows[0]!.n).toBe(10));
  });

  it('is prepared under a name derived from its text on the connection that ran it', async () => {
    await statement(a.knex, 5);
    const rows = await namedHere(a.knex);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.name).toMatch(/^p_[A-Za-z0-9_-]{22}$/);
    expect(rows[0]!.statement).toContain('$1::int + 1');
  });

  it('a statement that is not marked is sent unnamed', async () => {
    await b.knex.raw('select 7 as n /* unmarked statement test */');
    const rows = (
      await b.knex.raw<{ rows: unknown[] }>(
        `select name from pg_prepared_statements where statement like '%unmarked statement test%' and statement not like '%pg_prepared_statements%'`,
      )
    ).rows;
    expect(rows).toEqual([]);
  });
});
