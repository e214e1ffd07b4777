import { describe, expect, it } from 'vitest';
import { numberInWords, ntdInWords } from '../../src/domain/payments/amount-in-words.js';

describe('amounts in words (大寫數字) as Taiwanese receipts write them', () => {
  it.each([
    [0, '零'],
    [1, '壹'],
    [9, '玖'],
    [10, '壹拾'],
    [11, '壹拾壹'],
    [20, '貳拾'],
    [101, '壹佰零壹'],
    [110, '壹佰壹拾'],
    [156, '壹佰伍拾陸'],
    [300, '參佰'],
    [1000, '壹仟'],
    [1005, '壹仟零伍'],
    [1050, '壹仟零伍拾'],
    [1500, '壹仟伍佰'],
    [9999, '玖仟玖佰玖拾玖'],
    [10000, '壹萬'],
    [10005, '壹萬零伍'],
    [10050, '壹萬零伍拾'],
    [10500, '壹萬零伍佰'],
    [15000, '壹萬伍仟'],
    [100000, '壹拾萬'],
    [100001, '壹拾萬零壹'],
    [200000, '貳拾萬'],
    [1000500, '壹佰萬零伍佰'],
    [12345678, '壹仟貳佰參拾肆萬伍仟陸佰柒拾捌'],
    [100000000, '壹億'],
    [100000001, '壹億零壹'],
    [100010000, '壹億零壹萬'],
    [110000000, '壹億壹仟萬'],
    [101000000, '壹億零壹佰萬'],
    [999999999999, '玖仟玖佰玖拾玖億玖仟玖佰玖拾玖萬玖仟玖佰玖拾玖'],
  ])('%i → %s', (n, words) => {
    expect(numberInWords(n)).toBe(words);
  });

  it('writes an amount as 新臺幣…元整', () => {
    expect(ntdInWords(300)).toBe('新臺幣參佰元整');
    expect(ntdInWords(156)).toBe('新臺幣壹佰伍拾陸元整');
    expect(ntdInWords(0)).toBe('新臺幣零元整');
  });

  it('refuses what is not a whole amount', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1_000_000_000_000])
      expect(() => numberInWords(bad)).toThrow(RangeError);
  });
});
