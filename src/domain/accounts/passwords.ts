import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { hasControlChars } from '../text.js';

/** bcrypt cost of every password a person chooses (and of the demo and test passwords). */
export const BCRYPT_COST = 12;
/**
 * bcrypt cost of a ONE-TIME password that oneTimePassword() generated (roster import, password resets) — and of
 * nothing else: a person's chosen password always gets BCRYPT_COST. A one-time password is 10 characters drawn
 * from a 54-letter alphabet by a crypto-random source (≈ 57.5 bits), so guessing it offline costs ~2^56 bcrypt
 * computations whatever the cost factor; cost 12 would only add time to an import (≈ 0.2 s per account, 444 s for
 * a 2,000-student roster) and no protection worth having. It must be changed at the first sign-in, and the new
 * password is hashed at BCRYPT_COST. Sign-in verifies both (bcrypt keeps the cost in the hash).
 */
export const ONE_TIME_PASSWORD_COST = 6;
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

/** Hash a password that oneTimePassword() generated (see ONE_TIME_PASSWORD_COST). Never for a chosen password. */
export async function hashOneTimePassword(password: string): Promise<string> {
  if (!ONE_TIME_PASSWORD_RE.test(password)) throw new Error('not a generated one-time password');
  return bcrypt.hash(password, ONE_TIME_PASSWORD_COST);
}

/** A new one-time password and its hash, for an account that must change it at the next sign-in. */
export async function issueOneTimePassword(): Promise<{ password: string; hash: string }> {
  const password = oneTimePassword();
  return { password, hash: await hashOneTimePassword(password) };
}

/** The cost factor a bcrypt hash was made with. */
export function bcryptCostOf(hash: string): number {
  return bcrypt.getRounds(hash);
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
  // A one-time password's cheaper hash answers sooner: pad it to the time of a full-cost check, so the answer's
  // timing does not tell an account that still has its one-time password from one that does not exist.
  if (hash !== undefined && hash.startsWith(`$2b$0${ONE_TIME_PASSWORD_COST}$`)) await bcrypt.compare('x', DUMMY_HASH);
  return ok && hash !== undefined;
}

/** The rules for a new password; a zh-TW message for the first one broken, or undefined. */
export function newPasswordProblem(password: string, current?: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `新密碼至少需要 ${MIN_PASSWORD_LENGTH} 個字元`;
  if (passwordTooLong(password)) return '新密碼過長（最多 72 個位元組，中文字每字約 3 個位元組）';
  if (hasControlChars(password)) return '新密碼含有不允許的字元';
  if (current !== undefined && password === current) return '新密碼不可與目前的密碼相同';
  return undefined;
}

// No look-alike characters (0/O, 1/l/I), so it can be read aloud or copied from a screen.
const OTP_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const ONE_TIME_PASSWORD_RE = new RegExp(`^[${OTP_ALPHABET}]{10}$`);

/** A one-time password for a reset or a new account: 10 characters from a crypto-random source. */
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
