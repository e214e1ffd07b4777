import bcrypt from 'bcrypt';

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
