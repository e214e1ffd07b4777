import type { Knex } from 'knex';

/**
 * One name per audit action (src/domain/audit.ts): the web pages wrote `period.create`, `period.update`,
 * `card.issue` and `card.retire` where the scripts wrote `period.created` and `card.issued`; the rows already
 * written take the one name, so a search of the log finds every period created, whoever created it.
 */
const RENAMES: [string, string][] = [
  ['period.create', 'period.created'],
  ['period.update', 'period.updated'],
  ['card.issue', 'card.issued'],
  ['card.retire', 'card.retired'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [from, to] of RENAMES) await knex('audit_log').where('action', from).update({ action: to });
}

export async function down(_knex: Knex): Promise<void> {
  // The old names cannot be told apart from the scripts' rows any more; the log stays as it is.
}
