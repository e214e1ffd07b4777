import { describe, expect, it } from 'vitest';
import { countSchoolDays, isSchoolDay, schoolDaysAfter } from '../../src/domain/schools/school-calendar.js';
import { addDays } from '../../src/domain/time.js';

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

describe('countSchoolDays agrees with walking the calendar day by day', () => {
  const walk = (from: string, to: string, holidays: ReadonlySet<string>) => {
    let n = 0;
    for (let d = from; d <= to; d = addDays(d, 1)) if (isSchoolDay(d, holidays)) n++;
    return n;
  };
  it('on every range of up to 400 days starting on each weekday, with holidays on weekdays and week-ends', () => {
    // A winter break (a range), single days, a holiday on a Saturday and one outside the ranges tried.
    const holidays = new Set([
      '2027-01-21',
      '2027-01-22',
      '2027-01-25',
      '2027-01-26',
      '2026-10-10',
      '2026-12-25',
      '2026-09-05',
      '2031-01-01',
    ]);
    let checked = 0;
    for (let s = 0; s < 14; s++) {
      const from = addDays('2026-08-31', s * 3);
      for (const len of [0, 1, 2, 4, 5, 6, 7, 8, 13, 29, 100, 142, 399]) {
        const to = addDays(from, len);
        expect(countSchoolDays(from, to, holidays), `${from}~${to}`).toBe(walk(from, to, holidays));
        expect(countSchoolDays(from, to, new Set()), `${from}~${to}, no holidays`).toBe(walk(from, to, new Set()));
        checked++;
      }
    }
    expect(checked).toBe(14 * 13);
  });
  it('is 0 for a range that ends before it starts, and refuses what is not a date', () => {
    expect(countSchoolDays('2026-11-24', '2026-11-23', new Set())).toBe(0);
    expect(() => countSchoolDays('2026-11-01', '2026-11-3x', new Set())).toThrow(RangeError);
  });
});
