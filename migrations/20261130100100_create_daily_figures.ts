import type { Knex } from 'knex';
import { rebuildFigures } from '../src/domain/reports/daily-figures.js';

/**
 * Daily figures per school (src/domain/reports/daily-figures.ts, docs/daily-figures.md): 統計報表 and the staff
 * 首頁 read a school's days from here instead of recounting its outbox rows and stored days on every request.
 * Kept up to date by the writers, in their transactions; filled here from the rows already stored.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('daily_sms_figures', (t) => {
    t.integer('school_id').notNullable().references('id').inTable('schools').onDelete('CASCADE');
    t.date('day').notNullable();
    t.integer('queued').notNullable().defaultTo(0);
    t.integer('sent').notNullable().defaultTo(0);
    t.integer('delivered').notNullable().defaultTo(0);
    t.integer('failed').notNullable().defaultTo(0);
    t.primary(['school_id', 'day']);
  });
  await knex.schema.createTable('daily_attendance_figures', (t) => {
    t.integer('school_id').notNullable().references('id').inTable('schools').onDelete('CASCADE');
    t.date('day').notNullable();
    t.integer('recorded').notNullable().defaultTo(0);
    t.integer('arrived').notNullable().defaultTo(0);
    t.integer('departed').notNullable().defaultTo(0);
    t.primary(['school_id', 'day']);
  });
  // The backfill: the same recount as `npm run admin -- figures:rebuild`.
  await rebuildFigures(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('daily_attendance_figures');
  await knex.schema.dropTable('daily_sms_figures');
}
