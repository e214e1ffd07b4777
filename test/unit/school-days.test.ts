import { describe, expect, it } from 'vitest';
import { isSchoolDay, schoolDaysAfter } from '../../src/domain/schools/school-calendar.js';

// 2026-11-18 is a Wednesday; 2026-11-20 a Friday, 2026-11-21/22 the week-end, 2026-11-24 a Tuesday.
describe('school days (weekdays that are not holidays of the school)', () => {
  const holidays = new Set(['2026-11-20']);
  it('a weekday that is not a holiday is a school day; a week-end day or a holiday is not', () => {
    expect(isSchoolDay('2026-11-19', holidays)).toBe(true);
    expect(isSchoolDay('2026-11-20', holidays)).toBe(false);
    expect(isSchoolDay('2026-11-21', holidays)).toBe(false);
    expect(isSchoolDay('2026-11-22', new Set())).toBe(false);
  });
  it('counts the school days after a date up to and including another', () => {
    expect(schoolDaysAfter('2026-11-24', '2026-11-24', holidays)).toBe(0);
    expect(schoolDaysAfter('2026-11-23', '2026-11-24', holidays)).toBe(1);
    expect(schoolDaysAfter('2026-11-19', '2026-11-24', holidays)).toBe(2); // Fri holiday, Sat, Sun skipped
    expect(schoolDaysAfter('2026-11-19', '2026-11-24', new Set())).toBe(3);
    expect(schoolDaysAfter('2026-11-18', '2026-11-24', holidays)).toBe(3);
    expect(schoolDaysAfter('2026-11-24', '2026-11-18', holidays)).toBe(0);
  });
});
