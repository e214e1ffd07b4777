import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connection.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';

// The embedded PostgreSQL is one backend shared by every connection: these prove its scheduler keeps
// concurrent queries and transactions of different connections apart (see src/db/embedded-queue.ts).
const embedded = await startEmbeddedPostgres('memory://');
const db = connect(embedded.url, { dbPoolMax: 8, dbStatementTimeoutMs: 30_000 });
afterAll(async () => {
  await db.close();
  await embedded.stop();
});

describe('the embedded PostgreSQL under concurrent use', () => {
  it('answers 400 parameterised queries from 8 connections each with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        db.knex.raw<{ rows: { v: number; t: string }[] }>('select ?::int as v, ?::text as t', [i, `x${i}`]),
      ),
    );
    results.forEach((r, i) => expect(r.rows[0]).toEqual({ v: i, t: `x${i}` }));
  });

  it("never runs one connection's query with another's parameters, with transactions open beside them", async () => {
    const pool = new pg.Pool(db.poolOptions(10));
    let wrong = 0;
    try {
      await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          if (i % 3 === 0) {
            const c = await pool.connect();
            try {
              await c.query('begin');
              const r = await c.query('select $1::float8 as f', [i + 0.5]);
              if (r.rows[0].f !== i + 0.5) wrong++;
              await c.query('commit');
            } finally {
              c.release();
            }
          } else {
            const r = await pool.query('select $1::text as t, $2::int as n', [`v${i}`, i]);
            if (r.rows[0].n !== i || r.rows[0].t !== `v${i}`) wrong++;
          }
        }),
      );
    } finally {
      await pool.end();
    }
    expect(wrong).toBe(0);
  });

  it('keeps 40 concurrent transactions isolated: every increment lands, rolled-back ones leave nothing', async () => {
    await db.knex.schema.createTable('counters', (t) => {
      t.integer('id').primary();
      t.integer('n').notNullable();
    });
    await db.knex('counters').insert({ id: 1, n: 0 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        db.knex.transaction(async (trx) => {
          const row = await trx('counters').where({ id: 1 }).forUpdate().first('n');
          await trx('counters')
            .where({ id: 1 })
            .update({ n: row.n + 1 });
          if (i % 4 === 0) throw new Error('roll back this one');
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(10);
    expect(await db.knex('counters').where({ id: 1 }).first('n')).toEqual({ n: 30 });
  });

  it('survives transactions that fail on a constraint while another pool reads and writes', async () => {
    await db.knex.schema.createTable('claims', (t) => {
      t.integer('id').primary();
      t.text('by').notNullable();
    });
    const other = new pg.Pool({ ...db.poolOptions(4) });
    try {
      const claims = Array.from({ length: 30 }, (_, i) =>
        db.knex.transaction(async (trx) => {
          await trx.raw('select ?::int', [i]);
          await trx('claims').insert({ id: 1, by: `t${i}` }); // only the first wins; the others fail here
          await trx.raw('select ?::int', [i]);
        }),
      );
      const reads = Array.from({ length: 30 }, (_, i) =>
        other.query('select $1::int as v', [i]).then((r) => r.rows[0].v),
      );
      const [claimed, read] = await Promise.all([Promise.allSettled(claims), Promise.all(reads)]);
      expect(claimed.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
      expect(read).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(await db.knex('claims').count('* as n').first()).toEqual({ n: 1 });
    } finally {
      await other.end();
    }
  });

  it('rolls back the transaction of a connection cut in its middle, and keeps serving the others', async () => {
    await db.knex.raw('create table cut_test (v int)');
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    await client.query('begin');
    await client.query('insert into cut_test values (1)');
    // The client is gone (a killed script, a dropped network) with its transaction open.
    const gone = new Promise((resolve) => client.once('end', resolve));
    client.on('error', () => {});
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await gone;
    const after = await db.knex.raw<{ rows: { n: number }[] }>('select count(*)::int as n from cut_test');
    expect(after.rows[0]!.n).toBe(0);
    await db.knex.transaction(async (trx) => {
      await trx('cut_test').insert({ v: 2 });
    });
    expect((await db.knex('cut_test').pluck('v')) as number[]).toEqual([2]);
  });

  it('keeps serving after a query fails', async () => {
    await expect(db.knex.raw('select * from no_such_table')).rejects.toThrow(/no_such_table/);
    const again = await Promise.all(Array.from({ length: 20 }, (_, i) => db.knex.raw('select ?::int as v', [i])));
    expect(again.map((r) => r.rows[0].v)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
