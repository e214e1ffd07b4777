import type { Knex } from 'knex';
import svgCaptcha from 'svg-captcha';

// The module itself renders a given text (untyped in its .d.ts); used for CAPTCHA_FIXED_TEXT in demos and tests.
const renderText = svgCaptcha as unknown as (text: string, options: svgCaptcha.ConfigObject) => string;

export const CAPTCHA_TTL_MS = 5 * 60 * 1000;

/** A new captcha: its answer (kept in the session only) and the SVG to show. */
export function newCaptcha(
  fixedText: string | undefined,
  now: number,
): { text: string; svg: string; expiresAt: number } {
  const opts = {
    size: 5,
    noise: 2,
    color: false,
    background: '#ffffff',
    ignoreChars: '0oO1iIlL',
    width: 150,
    height: 50,
  };
  const c = fixedText ? { text: fixedText, data: renderText(fixedText, opts) } : svgCaptcha.create(opts);
  return { text: c.text, svg: c.data, expiresAt: now + CAPTCHA_TTL_MS };
}

/**
 * Check an answer against the stored captcha. The stored one is consumed whatever the outcome (the caller
 * deletes it before calling); a missing or expired captcha is a failure. Case does not matter.
 */
export function captchaMatches(
  stored: { text: string; expiresAt: number } | undefined,
  answer: string,
  now: number,
): boolean {
  if (!stored || typeof stored.text !== 'string' || stored.text.length === 0) return false;
  if (now > stored.expiresAt) return false;
  return stored.text.toLowerCase() === answer.trim().toLowerCase();
}

/**
 * Take the session's captcha for this attempt, atomically: of N parallel attempts with one session (each has
 * read the same captcha with its copy of the session), exactly one gets it; the others get undefined and so
 * `驗證碼錯誤`. One conditional UPDATE of the stored session removes it only while it is still there (at READ
 * COMMITTED a waiting UPDATE re-checks its WHERE on the winner's row and matches nothing).
 */
export async function claimCaptcha<T extends { text: string; expiresAt: number }>(
  knex: Knex,
  sessionId: string,
  stored: T | undefined,
): Promise<T | undefined> {
  if (!stored) return undefined;
  const claimed = await knex('session')
    .where('sid', sessionId)
    .whereRaw(`(sess::jsonb -> 'captcha') = ?::jsonb`, [JSON.stringify(stored)])
    .update({ sess: knex.raw(`(sess::jsonb - 'captcha')::json`) });
  return claimed === 1 ? stored : undefined;
}
