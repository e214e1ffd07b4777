import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';

export const BCRYPT_COST = 12;
/** bcrypt reads only the first 72 bytes: a longer password is refused rather than silently cut. */
export const MAX_PASSWORD_BYTES = 72;
export const MIN_PASSWORD_LENGTH = 8;

export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
}

export async function hashPassword(password: string): Promise<string> {
  if (passwordTooLong(password)) throw new Error('password longer than 72 bytes');
  return bcrypt.hash(password, BCRYPT_COST);
}

// A real hash of a random string, so that checking an unknown account costs what checking a real one does.
const DUMMY_HASH = '$2b$12$3e85Yw3x82nw2gg0rCNmeeWBReO..TzZMPVLbpLrg1HtBIRnvN7/G';

/** Compare a password with a stored hash (or with a dummy when there is no account). Never throws for bad input. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (passwordTooLong(password)) {
    await bcrypt.compare('x', hash ?? DUMMY_HASH);
    return false;
  }
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return ok && hash !== undefined;
}

/** The rules for a new password; a zh-TW message for the first one broken, or undefined. */
export function newPasswordProblem(password: string, current?: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `新密碼至少需要 ${MIN_PASSWORD_LENGTH} 個字元`;
  if (passwordTooLong(password)) return '新密碼過長（最多 72 個位元組，中文字每字約 3 個位元組）';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(password)) return '新密碼含有不允許的字元';
  if (current !== undefined && password === current) return '新密碼不可與目前的密碼相同';
  return undefined;
}

// No look-alike characters (0/O, 1/l/I), so it can be read aloud or copied from a screen.
const OTP_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A one-time password for a reset: 10 characters from a crypto-random source. */
export function oneTimePassword(): string {
  const bytes = randomBytes(32);
  let out = '';
  for (const b of bytes) {
    if (b >= 256 - (256 % OTP_ALPHABET.length)) continue; // no modulo bias
    out += OTP_ALPHABET[b % OTP_ALPHABET.length];
    if (out.length === 10) return out;
  }
  return out.length === 10 ? out : oneTimePassword();
}
