import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { PROJECT_ROOT } from '../src/paths.js';

/** Taipei's 12 districts, in the city's usual order. */
export const DISTRICTS = [
  '中正區',
  '大同區',
  '中山區',
  '松山區',
  '大安區',
  '萬華區',
  '信義區',
  '士林區',
  '北投區',
  '內湖區',
  '南港區',
  '文山區',
];

export const LEVELS = [
  { code: 'elementary', name: '國小', sort_order: 1 },
  { code: 'junior_high', name: '國中', sort_order: 2 },
  { code: 'senior_high', name: '高中', sort_order: 3 },
  { code: 'vocational', name: '高職', sort_order: 4 },
];

export interface SchoolRow {
  code: string;
  name: string;
  district: string;
  level: string;
}

/** seeds/data/taipei_schools.csv: `code,name,district,level`, UTF-8 (no quoted fields in this file). */
export function readSchools(file = path.join(PROJECT_ROOT, 'seeds/data/taipei_schools.csv')): SchoolRow[] {
  const lines = readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const [header, ...rows] = lines;
  if (header?.trim() !== 'code,name,district,level') throw new Error(`unexpected header in ${file}: ${header}`);
  return rows.map((line, i) => {
    const [code, name, district, level] = line.split(',').map((v) => v.trim());
    if (!code || !name || !district || !level) throw new Error(`${file}:${i + 2}: expected 4 fields`);
    return { code, name, district, level };
  });
}

/** Reference data: districts, levels and every school. Idempotent: a second run changes nothing. */
export async function seed(knex: Knex): Promise<void> {
  await knex('school_levels').insert(LEVELS).onConflict('code').merge(['name', 'sort_order']);
  await knex('districts')
    .insert(DISTRICTS.map((name, i) => ({ name, sort_order: i + 1 })))
    .onConflict('name')
    .merge(['sort_order']);
  const districtIds = new Map<string, number>(
    (await knex('districts').select('id', 'name')).map((d: { id: number; name: string }) => [d.name, d.id]),
  );
  const schools = readSchools().map((s) => {
    const districtId = districtIds.get(s.district);
    if (!districtId) throw new Error(`unknown district ${s.district} for school ${s.code}`);
    return { code: s.code, level: s.level, name: s.name, district_id: districtId };
  });
  for (let i = 0; i < schools.length; i += 100) {
    await knex('schools')
      .insert(schools.slice(i, i + 100))
      .onConflict(['code', 'level'])
      .merge(['name', 'district_id']);
  }
}
