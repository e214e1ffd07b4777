import { describe, expect, it } from 'vitest';
import { cellText, computeDay, gridDates, noticeFor, type DayRecords } from '../../src/domain/attendance/rules.js';

const o = { departureMinMinutes: 10 };
const at = (hhmm: string, date = '2026-11-24') => new Date(`${date}T${hhmm}:00+08:00`);
const day = (swipes: string[], manual: DayRecords['manual'] = []): DayRecords => ({
  swipes: swipes.map((t, i) => ({ id: i + 1, at: at(t) })),
  manual,
});
const cells = (d: DayRecords) => {
  const a = computeDay(d, o);
  return [cellText(a.arrival), cellText(a.departure)];
};

describe('attendance rules', () => {
  it('shows 未刷卡 for both columns when there is no record', () => {
    expect(cells(day([]))).toEqual(['未刷卡', '未刷卡']);
  });

  it('takes the first record as arrival and the last record ≥ 10 minutes later as departure', () => {
    expect(cells(day(['07:42', '07:45', '16:05', '16:20']))).toEqual(['07:42', '16:20']);
    expect(cells(day(['16:20', '07:42']))).toEqual(['07:42', '16:20']);
  });

  it('does not count a swipe within 10 minutes of arrival as a departure', () => {
    expect(cells(day(['07:42', '07:51']))).toEqual(['07:42', '未刷卡']);
    expect(cells(day(['07:42', '07:52']))).toEqual(['07:42', '07:52']);
    expect(computeDay(day(['07:42:00', '07:51:59'].map((t) => t.slice(0, 5))), o).departure).toBeUndefined();
  });

  it('measures the 10 minutes to the second', () => {
    const d: DayRecords = { swipes: [{ id: 1, at: new Date('2026-11-24T07:42:30+08:00') }, { id: 2, at: new Date('2026-11-24T07:52:29+08:00') }], manual: [] };
    expect(computeDay(d, o).departure).toBeUndefined();
    d.swipes.push({ id: 3, at: new Date('2026-11-24T07:52:30+08:00') });
    expect(cellText(computeDay(d, o).departure)).toBe('07:52');
  });

  it('honours another departure setting', () => {
    const a = computeDay(day(['07:42', '07:51']), { departureMinMinutes: 5 });
    expect(cellText(a.departure)).toBe('07:51');
    const zero = computeDay(day(['07:42']), { departureMinMinutes: 0 });
    expect(zero.departure).toBeUndefined();
  });

  it('shows 補登 HH:mm when a manual entry is what is shown', () => {
    expect(cells(day([], [{ direction: 'arrival', time: '09:11' }]))).toEqual(['補登 09:11', '未刷卡']);
    expect(cells(day(['16:00'], [{ direction: 'arrival', time: '09:11' }]))).toEqual(['補登 09:11', '16:00']);
    expect(cells(day(['07:40'], [{ direction: 'departure', time: '15:30' }]))).toEqual(['07:40', '補登 15:30']);
    expect(cells(day([], [{ direction: 'departure', time: '15:30' }]))).toEqual(['未刷卡', '補登 15:30']);
  });

  it('keeps the card time when a manual arrival is later than the first swipe', () => {
    expect(cells(day(['07:40'], [{ direction: 'arrival', time: '08:00' }]))).toEqual(['07:40', '未刷卡']);
  });

  it('prefers the swipe over a manual entry of the same minute', () => {
    expect(cells(day(['07:40'], [{ direction: 'arrival', time: '07:40' }]))).toEqual(['07:40', '未刷卡']);
  });

  it('says which swipe triggers a notice: the arrival, then only the first departure', () => {
    const d = day(['07:42', '07:45', '16:05', '16:20']);
    expect(noticeFor(d, 1, o)).toBe('arrival');
    expect(noticeFor(d, 2, o)).toBeUndefined();
    expect(noticeFor(d, 3, o)).toBe('departure');
    expect(noticeFor(d, 4, o)).toBeUndefined();
  });

  it('gives no notice to a swipe after a manual arrival within 10 minutes, nor after a manual departure', () => {
    expect(noticeFor(day(['07:42'], [{ direction: 'arrival', time: '07:38' }]), 1, o)).toBeUndefined();
    expect(noticeFor(day(['07:30', '16:30'], [{ direction: 'departure', time: '16:00' }]), 2, o)).toBeUndefined();
  });

  it('lists school days: weekdays that are not holidays, plus days with a record', () => {
    // 2026-11-18 (Wed) … 2026-11-24 (Tue); 21–22 is a weekend; 2026-11-20 a holiday.
    const holidays = new Set(['2026-11-20']);
    expect(gridDates('2026-11-18', '2026-11-24', holidays, new Set())).toEqual([
      '2026-11-18',
      '2026-11-19',
      '2026-11-23',
      '2026-11-24',
    ]);
    expect(gridDates('2026-11-18', '2026-11-24', holidays, new Set(['2026-11-20', '2026-11-21']))).toEqual([
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-23',
      '2026-11-24',
    ]);
    expect(gridDates('2026-11-24', '2026-11-23', holidays, new Set())).toEqual([]);
  });
});
