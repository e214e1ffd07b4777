/**
 * One module writes an SMS's state: src/domain/sms/outbox-status.ts inserts `sms_outbox` rows and changes their
 * status (with the daily figures that go with it). This reads every source file of src as text and fails on
 * any other statement that inserts, updates or deletes outbox rows, in SQL or through the query builder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

const WRITER = 'src/domain/sms/outbox-status.ts';
/** The demo data generator bulk-loads a city's history of messages in every state, then rebuilds the figures. */
const BULK_LOADER = 'src/dev/demo-city.ts';

const SQL_WRITE = /\b(?:update|insert\s+into|delete\s+from)\s+sms_outbox\b/i;
/** `knex('sms_outbox')` (or `trx('sms_outbox as o')`) up to the end of its statement, then a write. */
const BUILDER_WRITE = /\(\s*['"`]sms_outbox(?:\s+as\s+\w+)?['"`]\s*\)[^;]*?\.(?:update|insert|del|delete|upsert)\s*\(/;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

export function writesOutbox(code: string): boolean {
  return SQL_WRITE.test(code) || BUILDER_WRITE.test(code);
}

describe('sms_outbox has one writer', () => {
  it('no file of src but outbox-status.ts inserts or changes outbox rows', () => {
    const writers = sourceFiles('src').filter((f) => writesOutbox(readFileSync(path.join(PROJECT_ROOT, f), 'utf8')));
    expect(writers.sort()).toEqual([BULK_LOADER, WRITER].sort());
  });

  it.each([
    ["await trx('sms_outbox').where({ id }).update({ status: 'failed' });", true],
    ["await knex('sms_outbox as o')\n  .whereIn('o.id', ids)\n  .update(set);", true],
    ["await trx('sms_outbox').insert({ status: 'queued' });", true],
    ["await trx.raw(`update sms_outbox set status = 'sent' where id = ?`, [id]);", true],
    ["await trx.raw(`insert into sms_outbox (status) values ('queued')`);", true],
    ["const rows = await knex('sms_outbox as o').where('o.status', 'failed').select('o.id');", false],
    ["const n = await knex.raw(`select count(*) from sms_outbox where status = 'queued'`);", false],
  ])('recognises a write in %j: %s', (code, expected) => {
    expect(writesOutbox(code)).toBe(expected);
  });
});
