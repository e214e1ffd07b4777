import { describe, expect, it } from 'vitest';
import {
  cellText,
  computeDay,
  dayDetail,
  gridDates,
  noticeFor,
  type DayRecords,
} from '../../src/domain/attendance/rules.js';

const o = { departureMinMinutes: 10, dismissalStart: '11:30' };
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

  it('takes the first record as arrival and the FIRST record that counts as a departure', () => {
    expect(cells(day(['07:42', '07:45', '16:05', '16:20']))).toEqual(['07:42', '16:05']);
    expect(cells(day(['16:20', '07:42']))).toEqual(['07:42', '16:20']);
  });

  it('never takes a second morning tap (07:35, 07:50) for a departure: the dismissal start comes first', () => {
    expect(cells(day(['07:35', '07:50']))).toEqual(['07:35', '未刷卡']);
    expect(cells(day(['07:35', '07:50', '16:05']))).toEqual(['07:35', '16:05']);
    const d = day(['07:35', '07:50', '16:05', '16:30']);
    expect([1, 2, 3, 4].map((id) => noticeFor(d, id, o))).toEqual(['arrival', undefined, 'departure', undefined]);
  });

  it('counts a tap from the dismissal start of its weekday on (Wednesday 12:00: 12:10 is the departure)', () => {
    const wed = { departureMinMinutes: 10, dismissalStart: '12:00' };
    expect(cellText(computeDay(day(['07:40', '11:55', '12:10']), wed).departure)).toBe('12:10');
    expect(cellText(computeDay(day(['07:40', '11:59']), wed).departure)).toBe('未刷卡');
    expect(cellText(computeDay(day(['07:40', '12:00']), wed).departure)).toBe('12:00');
  });

  it('takes an out reader at 10:00 as the departure (an early leave); an in reader is never a departure', () => {
    const d: DayRecords = {
      swipes: [
        { id: 1, at: at('07:40') },
        { id: 2, at: at('10:00'), reader: 'out' },
      ],
      manual: [],
    };
    expect(cells(d)).toEqual(['07:40', '10:00']);
    expect(noticeFor(d, 2, o)).toBe('departure');
    const inOnly: DayRecords = {
      swipes: [
        { id: 1, at: at('07:40'), reader: 'in' },
        { id: 2, at: at('16:05'), reader: 'in' },
      ],
      manual: [],
    };
    expect(cells(inOnly)).toEqual(['07:40', '未刷卡']);
    expect(noticeFor(inOnly, 2, o)).toBeUndefined();
  });

  it('never takes an out-reader tap as the arrival: alone it is kept and sends nothing; before the arrival it is kept', () => {
    const outOnly: DayRecords = { swipes: [{ id: 1, at: at('16:05'), reader: 'out' }], manual: [] };
    expect(cells(outOnly)).toEqual(['未刷卡', '未刷卡']);
    expect(noticeFor(outOnly, 1, o)).toBeUndefined();
    expect(dayDetail(outOnly, o).map((r) => [r.time, r.role])).toEqual([['16:05', 'kept']]);
    // The wrong gate in the morning, then the right one: the in tap is the arrival, the out tap before it is kept.
    const wrongGate: DayRecords = {
      swipes: [
        { id: 1, at: at('07:30'), reader: 'out' },
        { id: 2, at: at('07:31'), reader: 'in' },
        { id: 3, at: at('16:05'), reader: 'out' },
      ],
      manual: [],
    };
    expect(cells(wrongGate)).toEqual(['07:31', '16:05']);
    expect(noticeFor(wrongGate, 1, o)).toBeUndefined();
    expect(noticeFor(wrongGate, 2, o)).toBe('arrival');
    expect(noticeFor(wrongGate, 3, o)).toBe('departure');
    // A 補登 arrival makes a later out tap the departure.
    const withEntry: DayRecords = {
      swipes: [{ id: 1, at: at('16:05'), reader: 'out' }],
      manual: [{ direction: 'arrival', time: '08:00' }],
    };
    expect(cells(withEntry)).toEqual(['補登 08:00', '16:05']);
    expect(noticeFor(withEntry, 1, o)).toBe('departure');
  });

  it('keeps a both-reader tap before the dismissal start (10:00) and sends nothing for it', () => {
    const d = day(['07:40', '10:00']);
    expect(cells(d)).toEqual(['07:40', '未刷卡']);
    expect(noticeFor(d, 2, o)).toBeUndefined();
    expect(dayDetail(d, o).map((r) => [r.time, r.role])).toEqual([
      ['07:40', 'arrival'],
      ['10:00', 'kept'],
    ]);
  });

  it('changes neither the departure nor the notices with a later tap', () => {
    const before = day(['07:40', '16:05']);
    const after = day(['07:40', '16:05', '16:40']);
    expect(cells(after)).toEqual(cells(before));
    expect(noticeFor(after, 3, o)).toBeUndefined();
    expect(dayDetail(after, o).map((r) => r.role)).toEqual(['arrival', 'departure', 'kept']);
  });

  it('does not count a swipe within 10 minutes of arrival as a departure, even after the dismissal start', () => {
    expect(cells(day(['12:42', '12:51']))).toEqual(['12:42', '未刷卡']);
    expect(cells(day(['12:42', '12:52']))).toEqual(['12:42', '12:52']);
  });

  it('measures the 10 minutes to the second', () => {
    const d: DayRecords = {
      swipes: [
        { id: 1, at: new Date('2026-11-24T12:42:30+08:00') },
        { id: 2, at: new Date('2026-11-24T12:52:29+08:00') },
      ],
      manual: [],
    };
    expect(computeDay(d, o).departure).toBeUndefined();
    d.swipes.push({ id: 3, at: new Date('2026-11-24T12:52:30+08:00') });
    expect(cellText(computeDay(d, o).departure)).toBe('12:52');
  });

  it('honours another departure setting', () => {
    const a = computeDay(day(['12:42', '12:51']), { departureMinMinutes: 5, dismissalStart: '11:30' });
    expect(cellText(a.departure)).toBe('12:51');
    const zero = computeDay(day(['07:42']), { departureMinMinutes: 0, dismissalStart: '11:30' });
    expect(zero.departure).toBeUndefined();
  });

  it('shows 補登 HH:mm when a manual entry is what is shown', () => {
    expect(cells(day([], [{ direction: 'arrival', time: '09:11' }]))).toEqual(['補登 09:11', '未刷卡']);
    expect(cells(day(['16:00'], [{ direction: 'arrival', time: '09:11' }]))).toEqual(['補登 09:11', '16:00']);
    expect(cells(day(['07:40'], [{ direction: 'departure', time: '15:30' }]))).toEqual(['07:40', '補登 15:30']);
    expect(cells(day(['07:40'], [{ direction: 'departure', time: '10:00' }]))).toEqual(['07:40', '補登 10:00']);
    expect(cells(day([], [{ direction: 'departure', time: '15:30' }]))).toEqual(['未刷卡', '補登 15:30']);
  });

  it('keeps the card time when a manual arrival is later than the first swipe', () => {
    expect(cells(day(['07:40'], [{ direction: 'arrival', time: '08:00' }]))).toEqual(['07:40', '未刷卡']);
  });

  it('prefers the swipe over a manual entry of the same minute', () => {
    expect(cells(day(['07:40'], [{ direction: 'arrival', time: '07:40' }]))).toEqual(['07:40', '未刷卡']);
  });

  it('gives no notice to a swipe after a manual arrival, nor after an earlier manual departure', () => {
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
