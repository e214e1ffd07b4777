import type { Knex } from 'knex';

/** Classes of a school year with their homeroom teachers; students (學號 unique per school, 座號 per class). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('classes', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.integer('school_year').notNullable();
    t.integer('grade').notNullable();
    t.text('code').notNullable();
    t.text('name').notNullable();
    t.unique(['school_id', 'school_year', 'code']);
    t.check('school_year between 100 and 200', [], 'classes_school_year_check');
    t.check('grade between 1 and 12', [], 'classes_grade_check');
  });
  await knex.schema.createTable('class_teachers', (t) => {
    t.integer('class_id').notNullable().references('id').inTable('classes').onDelete('CASCADE');
    t.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.primary(['class_id', 'account_id']);
    t.index(['account_id']);
  });
  await knex.schema.createTable('students', (t) => {
    t.increments('id');
    t.integer('school_id').notNullable().references('id').inTable('schools');
    t.integer('class_id').notNullable().references('id').inTable('classes');
    t.text('student_number').notNullable();
    t.integer('seat_number').notNullable();
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['school_id', 'student_number']);
    t.unique(['class_id', 'seat_number']);
    t.index(['class_id']);
    t.check('seat_number between 1 and 99', [], 'students_seat_number_check');
    t.check("student_number ~ '^[0-9A-Za-z]{1,16}$'", [], 'students_student_number_check');
  });
  await knex.schema.createTable('guardian_students', (t) => {
    t.integer('guardian_id').notNullable().references('id').inTable('guardians').onDelete('CASCADE');
    t.integer('student_id').notNullable().references('id').inTable('students').onDelete('CASCADE');
    t.text('relationship');
    t.primary(['guardian_id', 'student_id']);
    t.index(['student_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('guardian_students');
  await knex.schema.dropTable('students');
  await knex.schema.dropTable('class_teachers');
  await knex.schema.dropTable('classes');
}
