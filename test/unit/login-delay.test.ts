import { describe, expect, it } from 'vitest';
import { failureDelayMs } from '../../src/middleware/throttle.js';

describe('failureDelayMs: a failed sign-in is answered more slowly each time', () => {
  it.each([
    [0, 0],
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1600],
    [6, 2000],
    [100, 2000],
  ])('after %i consecutive failures, waits %i ms', (failures, ms) => {
    expect(failureDelayMs(failures)).toBe(ms);
  });

  it('waits nothing for nonsense counts', () => {
    expect(failureDelayMs(-1)).toBe(0);
    expect(failureDelayMs(1.5)).toBe(0);
    expect(failureDelayMs(Number.NaN)).toBe(0);
  });
});
