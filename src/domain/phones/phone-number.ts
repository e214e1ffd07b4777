/**
 * Taiwanese mobile numbers as parents type them, normalised to `09XXXXXXXX`. Pure: no I/O.
 *
 * Accepted: `0912345678`, `0912-345-678`, `0912 345 678`, `(0912)345-678`, `+886912345678`,
 * `+886-912-345-678`, `886912345678`, `+886 0912 345 678`, and the same with full-width digits/signs
 * (NFKC). Anything else is refused with a message that shows a valid number.
 */
export const PHONE_EXAMPLE = '0912-345-678';
export const PHONE_REFUSAL = `請輸入台灣手機號碼，例如 ${PHONE_EXAMPLE}`;

export type PhoneParse = { ok: true; number: string } | { ok: false; message: string };

export function normalisePhone(input: unknown): PhoneParse {
  if (typeof input !== 'string') return { ok: false, message: PHONE_REFUSAL };
  if (input.length > 40) return { ok: false, message: PHONE_REFUSAL };
  const nfkc = input.normalize('NFKC').trim();
  if (nfkc === '') return { ok: false, message: `請輸入手機號碼，例如 ${PHONE_EXAMPLE}` };
  // Only digits, one leading '+', and the separators people type: spaces, hyphens, dots, parentheses.
  if (!/^\+?[0-9\s\-.()]+$/.test(nfkc)) return { ok: false, message: PHONE_REFUSAL };
  const plus = nfkc.startsWith('+');
  let digits = nfkc.replace(/[^0-9]/g, '');
  if (plus || digits.startsWith('886')) {
    if (!digits.startsWith('886')) return { ok: false, message: PHONE_REFUSAL };
    digits = digits.slice(3);
    if (digits.startsWith('0')) digits = digits.slice(1); // "+886 0912…" is a common slip
    digits = `0${digits}`;
  }
  if (!/^09\d{8}$/.test(digits)) return { ok: false, message: PHONE_REFUSAL };
  return { ok: true, number: digits };
}

/** `0912345678` → `0912-***-678`: how staff pages, logs and the audit log show a number. */
export function maskPhone(number: string): string {
  return /^09\d{8}$/.test(number) ? `${number.slice(0, 4)}-***-${number.slice(7)}` : '***';
}
