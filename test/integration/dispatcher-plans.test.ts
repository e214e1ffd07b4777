/**
 * The dispatcher never depends on luck: its claim and its outcome writes are key lookups whatever the
 * statistics say. The queue is built right after `VACUUM ANALYZE` of an EMPTY sms_outbox (the state after a
 * quiet night: the statistics say the table and its due index are empty), with autovacuum off for the table
 * so nothing refreshes them behind the test's back; the plans are read from EXPLAIN (FORMAT JSON) — node
 * types and index names, never timings — then again after a real ANALYZE.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { KEY_LOOKUP_SETTINGS_SQL, CLAIM_SQL, RECORD_SQL, RELEASE_SQL } from '../../src/domain/sms/outbox-status.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';

const knex = testDb().knex;
afterAll(async () => {
  await knex.raw('alter table sms_outbox reset (autovacuum_enabled)');
  await closeTestDb();
});
beforeEach(() => resetDb());

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function planOf(sql: string, bindings: unknown[], settings?: string): Promise<PlanNode[]> {
  return knex.transaction(async (trx) => {
    if (settings) await trx.raw(settings);
    const res = await trx.raw<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>(
      `explain (format json) ${sql}`,
      bindings as never,
    );
    return nodes(res.rows[0]!['QUERY PLAN'][0].Plan);
  });
}

/** The scans that touch sms_outbox, as `Node Type:index` (or `Seq Scan`). */
function outboxScans(plan: PlanNode[]): string[] {
  return plan
    .filter((n) => n['Relation Name'] === 'sms_outbox' && n['Node Type'] !== 'ModifyTable')
    .map((n) => (n['Index Name'] ? `${n['Node Type']}:${n['Index Name']}` : n['Node Type']));
}

const NOW = new Date('2026-11-24T01:00:00Z');

async function buildQueueAfterVacuumOfEmptyTable(): Promise<void> {
  await knex.raw('alter table sms_outbox set (autovacuum_enabled = false)');
  await knex.raw('vacuum analyze sms_outbox');
  const stats = await knex.raw<{ rows: { reltuples: number }[] }>(
    `select reltuples from pg_class where relname = 'sms_outbox'`,
  );
  expect(Number(stats.rows[0]!.reltuples)).toBeLessThanOrEqual(0); // the statistics say: empty
  // 20,000 messages already sent (yesterday) and 5,000 due now, with 5,000 claimed ('sending').
  await knex.raw(
    `insert into sms_outbox (kind, phone, body, status, attempts, next_attempt_at, created_at, claimed_until)
     select 'arrival', '0912345678', '【臺北市數位學生證】測試 ' || i,
            case when i <= 20000 then 'sent' when i <= 25000 then 'queued' else 'sending' end,
            case when i <= 25000 then 0 else 1 end,
            ?::timestamptz - (i || ' seconds')::interval, ?::timestamptz,
            case when i > 25000 then ?::timestamptz else null end
     from generate_series(1, 30000) as i`,
    [NOW, NOW, new Date(NOW.getTime() + 60_000)],
  );
}

function batchOutcomes(ids: number[]): string {
  return JSON.stringify(
    ids.map((id) => ({
      id,
      attempts: 1,
      lease: new Date(NOW.getTime() + 60_000).toISOString(),
      status: 'sent',
      provider_message_id: `log-${id}`,
      sent_at: NOW.toISOString(),
      next_attempt_at: null,
      last_error: null,
      failure_code: null,
      body: null,
    })),
  );
}

async function expectKeyLookupPlans(): Promise<void> {
  const claim = await planOf(CLAIM_SQL, [NOW, 200, NOW, NOW, 'log'], KEY_LOOKUP_SETTINGS_SQL);
  const claimScans = outboxScans(claim);
  expect(claimScans).not.toContain('Seq Scan');
  expect(claimScans).toContain('Index Scan:sms_outbox_due'); // the due rows, in order, up to the limit
  expect(claimScans).toContain('Index Scan:sms_outbox_pkey'); // then each claimed row by its key
  expect(claim.map((n) => n['Node Type'])).toContain('LockRows');

  const ids = Array.from({ length: 200 }, (_, i) => 25_001 + i);
  for (const [sql, bindings] of [
    [RECORD_SQL, [batchOutcomes(ids)]],
    [RELEASE_SQL, [NOW, batchOutcomes(ids)]],
  ] as const) {
    const scans = outboxScans(await planOf(sql, [...bindings], KEY_LOOKUP_SETTINGS_SQL));
    expect(scans).toEqual(['Index Scan:sms_outbox_pkey']);
  }
}

describe('the dispatcher’s plans', () => {
  it('claim and outcome writes use the due index and the primary key on a queue built after VACUUM of an empty table, and after ANALYZE', async () => {
    await buildQueueAfterVacuumOfEmptyTable();
    await expectKeyLookupPlans();
    await knex.raw('analyze sms_outbox');
    await expectKeyLookupPlans();
  });
});
