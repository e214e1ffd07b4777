import { describe, expect, it } from 'vitest';
import {
  addDays,
  daysBetween,
  isValidDate,
  schoolYearOf,
  taipeiDate,
  taipeiTime,
  weekdayName,
} from '../../src/domain/time.js';

describe('Asia/Taipei dates, whatever the server zone', () => {
  it('00:30 in Taipei is still the previous day in UTC, and the Taipei date wins', () => {
    const at = new Date('2026-11-28T16:30:00Z');
    expect(taipeiDate(at)).toBe('2026-11-29');
    expect(taipeiTime(at)).toBe('00:30');
  });

  it('names the weekday and counts days across months and a leap day', () => {
    expect(weekdayName('2026-11-24')).toBe('星期二');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(daysBetween('2026-08-31', '2027-01-20')).toBe(142);
  });

  it('gives the ROC school year: 學年度 N runs from August of N+1911', () => {
    expect(schoolYearOf('2026-08-01')).toBe(115);
    expect(schoolYearOf('2027-07-31')).toBe(115);
  });
});

describe('isValidDate and addDays refuse what would break PostgreSQL or a day-by-day loop', () => {
  it.each([
    '2026-02-30',
    '2026-13-01',
    '0000-01-01',
    '1999-12-31',
    '2100-01-01',
    '9999-12-31',
    '2026-1-1',
    ' 2026-01-01',
  ])('%s is not a date the portal accepts', (d) => expect(isValidDate(d)).toBe(false));

  it.each(['2000-01-01', '2026-11-24', '2099-12-31'])('%s is', (d) => expect(isValidDate(d)).toBe(true));

  it('throws rather than return a date past year 9999 (which would sort before every other date)', () => {
    expect(() => addDays('9999-12-31', 1)).toThrow(RangeError);
  });
});
