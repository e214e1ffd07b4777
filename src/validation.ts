/**
 * Input rules shared by every boundary: one string where one value is meant (never an array), NFKC-normalised
 * once, no NUL or other control characters, explicit maximum lengths, ids range-checked, no coercion.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { NotFoundError } from './http-errors.js';
import { isValidDate, MAX_DATE, MIN_DATE } from './domain/time.js';
import { hasControlChars } from './domain/text.js';

/**
 * A single text value: trimmed, no control characters (newlines allowed only when `multiline`).
 * Codes and identifiers (學號, 帳號, 座號, names typed into a filter) are NFKC-normalised, so full-width digits
 * and letters count as the ordinary ones. Prose (`prose`, and every multiline field) is only NFC-normalised:
 * NFKC would turn Chinese punctuation such as ，：（ into ASCII.
 */
export const text = (max: number, opts: { min?: number; multiline?: boolean; prose?: boolean } = {}) =>
  z
    .string({ error: '格式有誤' })
    .max(max * 4, `最多 ${max} 個字`)
    .transform((v) =>
      v
        .normalize(opts.prose || opts.multiline ? 'NFC' : 'NFKC')
        .replace(/\r\n?/g, '\n')
        .trim(),
    )
    .pipe(
      z
        .string()
        .min(opts.min ?? 0, opts.min && opts.min > 0 ? '此欄位必填' : undefined)
        .max(max, `最多 ${max} 個字`)
        .refine(
          (v) => !hasControlChars(v, { multiline: true }) && (opts.multiline || !v.includes('\n')),
          '含有不允許的字元',
        ),
    );

/** A positive database id given as a decimal string. */
export const id = z
  .string({ error: '格式有誤' })
  .regex(/^[1-9]\d{0,9}$/, '格式有誤')
  .transform(Number)
  .pipe(z.number().int().max(2_147_483_647, '格式有誤'));

/** The id in a route parameter: one that is not a valid id does not exist (404), like one that is not yours. */
export function paramId(req: Request, name = 'id'): number {
  const parsed = id.safeParse(req.params[name]);
  if (!parsed.success) throw new NotFoundError();
  return parsed.data;
}

/** An optional filter value: '' or missing means "all". */
export const optionalId = z
  .union([z.literal(''), id])
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const date = z
  .string({ error: '日期格式有誤' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式應為 YYYY-MM-DD')
  .refine(isValidDate, `不是有效的日期（${MIN_DATE} 至 ${MAX_DATE}）`);

/** Page number of a list: 1 … 100000. */
export const page = z
  .string({ error: '頁數格式有誤' })
  .regex(/^[1-9]\d{0,5}$/, '頁數格式有誤')
  .transform(Number)
  .optional();

/** The CSRF field every form carries (checked by the middleware; allowed here so strict schemas accept it). */
export const csrfField = { _csrf: z.string().max(1000).optional() };

/** The first message of each field, for the form to show beside it. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : '_form';
    if (issue.code === 'unrecognized_keys') {
      out._form ??= '表單含有不允許的欄位';
      continue;
    }
    out[key] ??= issue.message;
  }
  return out;
}
