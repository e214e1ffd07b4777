import type { Knex } from 'knex';

/**
 * Messages written by a teacher or school office (訊息發送服務), and the SMS outbox: every SMS the portal sends
 * is a row here, written in the transaction that decided to send it and delivered by the dispatcher.
 * `dedupe_key` makes "one notice per student per direction per day per phone" a database fact.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('messages', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.integer('class_id').references('id').inTable('classes');
    t.integer('author_account_id').references('id').inTable('accounts').onDelete('SET NULL');
    t.text('body').notNullable();
    t.integer('recipient_count').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['school_id', 'created_at']);
    t.check('length(body) between 1 and 70', [], 'messages_body_check');
  });
  await knex.schema.createTable('sms_outbox', (t) => {
    t.bigIncrements('id');
    t.integer('school_id').references('id').inTable('schools');
    t.integer('student_id').references('id').inTable('students').onDelete('SET NULL');
    t.integer('message_id').references('id').inTable('messages').onDelete('SET NULL');
    t.text('kind').notNullable();
    t.text('phone').notNullable();
    t.text('body').notNullable();
    t.text('dedupe_key').unique();
    t.text('status').notNullable().defaultTo('queued');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('claimed_until', { useTz: true });
    t.text('provider');
    t.text('provider_message_id');
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.index(['school_id', 'created_at']);
    t.index(['message_id']);
    t.index(['provider', 'provider_message_id']);
    t.check("kind in ('arrival','departure','verification','message')", [], 'sms_outbox_kind_check');
    t.check("status in ('queued','sending','sent','delivered','failed')", [], 'sms_outbox_status_check');
    t.check("phone ~ '^09[0-9]{8}$'", [], 'sms_outbox_phone_check');
    t.check('attempts >= 0', [], 'sms_outbox_attempts_check');
  });
  await knex.raw("create index sms_outbox_due on sms_outbox (next_attempt_at) where status in ('queued','sending')");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sms_outbox');
  await knex.schema.dropTable('messages');
}
