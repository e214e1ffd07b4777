import type { Knex } from 'knex';

/**
 * Why an SMS failed, as a code the pages turn into words (src/domain/sms/sms-words.ts), and where the
 * current round of attempts started: a resend (重新發送) of a failed message is a new round of
 * SMS_MAX_ATTEMPTS on the same row, while `attempts` keeps counting every try ever made.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sms_outbox', (t) => {
    t.text('failure_code');
    t.integer('attempts_before_resend').notNullable().defaultTo(0);
    t.check("failure_code ~ '^[a-z_]{1,40}$'", [], 'sms_outbox_failure_code_check');
    t.check('attempts_before_resend between 0 and attempts', [], 'sms_outbox_attempts_before_resend_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sms_outbox', (t) => {
    t.dropChecks(['sms_outbox_failure_code_check', 'sms_outbox_attempts_before_resend_check']);
    t.dropColumn('attempts_before_resend');
    t.dropColumn('failure_code');
  });
}
