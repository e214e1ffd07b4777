/**
 * Amounts in words as Taiwanese receipts and forms write them (大寫數字): 新臺幣參佰元整. The anti-fraud digits
 * 零壹貳參肆伍陸柒捌玖 and units 拾佰仟 within each group of four digits, 萬 and 億 between groups. Zeros: a run of
 * zeros inside the number reads as one 零 (1,005 壹仟零伍; 10,005 壹萬零伍; 1,000,500 壹佰萬零伍佰); zeros at
 * the end read as nothing (300 參佰); a leading 1 of the tens keeps its digit (10 壹拾, 100,000 壹拾萬).
 */
const DIGITS = ['零', '壹', '貳', '參', '肆', '伍', '陸', '柒', '捌', '玖'] as const;
const UNITS = ['', '拾', '佰', '仟'] as const;
const GROUPS = ['', '萬', '億'] as const;
export const MAX_AMOUNT_IN_WORDS = 999_999_999_999;

/** One group of four digits (1 … 9999), without its leading zeros. */
function groupInWords(n: number): string {
  let out = '';
  let zero = false;
  for (let p = 3; p >= 0; p--) {
    const d = Math.floor(n / 10 ** p) % 10;
    if (d === 0) {
      if (out !== '') zero = true;
      continue;
    }
    if (zero) out += DIGITS[0];
    out += DIGITS[d]! + UNITS[p]!;
    zero = false;
  }
  return out;
}

/** A whole number 0 … 999,999,999,999 in 大寫數字: 300 → 參佰, 10005 → 壹萬零伍, 0 → 零. */
export function numberInWords(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_AMOUNT_IN_WORDS) throw new RangeError(`not an amount: ${n}`);
  if (n === 0) return DIGITS[0];
  const groups: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 10_000)) groups.unshift(rest % 10_000);
  let out = '';
  let zero = false;
  groups.forEach((g, i) => {
    const unit = GROUPS[groups.length - 1 - i]!;
    if (g === 0) {
      if (out !== '') zero = true;
      return;
    }
    // A group after a higher one reads a 零 when its own thousands are 0 or a whole group was skipped.
    if (out !== '' && (zero || g < 1000)) out += DIGITS[0];
    out += groupInWords(g) + unit;
    zero = false;
  });
  return out;
}

/** An amount in NT$ as a receipt writes it: 新臺幣參佰元整. */
export function ntdInWords(amount: number): string {
  return `新臺幣${numberInWords(amount)}元整`;
}
