import type { Knex } from 'knex';

export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

/** Wrong usage of a command (a flag out of range): exit code 64, like a missing flag. */
export class UsageError extends AdminError {}

import { LEVELS } from '../vocabulary.js';

export { LEVELS };

/** A school by its MOE code (and level, when the code is used at several levels). */
export async function resolveSchool(
  knex: Knex,
  code: string,
  level?: string,
): Promise<{ id: number; name: string; code: string; level: string }> {
  if (!/^[0-9A-Za-z]{6}$/.test(code)) throw new AdminError(`學校代碼格式有誤：${code}（應為 6 碼英數字）`);
  if (level !== undefined && !(LEVELS as readonly string[]).includes(level))
    throw new AdminError(`級別有誤：${level}（可用：${LEVELS.join(', ')}）`);
  const q = knex('schools').where({ code });
  if (level) q.where({ level });
  const rows = (await q.select('id', 'name', 'code', 'level')) as {
    id: number;
    name: string;
    code: string;
    level: string;
  }[];
  if (rows.length === 0) throw new AdminError(`找不到學校代碼 ${code}${level ? `（${level}）` : ''}`);
  if (rows.length > 1)
    throw new AdminError(`學校代碼 ${code} 有多個級別，請加上 --level（${rows.map((r) => r.level).join(', ')}）`);
  return rows[0]!;
}

/** Every school's id, in id order (a command's --all). */
export async function allSchoolIds(knex: Knex): Promise<number[]> {
  return (await knex('schools').orderBy('id').pluck('id')) as number[];
}
