import type { Knex } from 'knex';

export interface District {
  id: number;
  name: string;
}
export interface Level {
  code: string;
  name: string;
}
export interface SchoolOption {
  id: number;
  code: string;
  name: string;
  districtId: number;
  level: string;
}

export async function listDistricts(knex: Knex): Promise<District[]> {
  return knex('districts').orderBy('sort_order').select('id', 'name');
}

export async function listLevels(knex: Knex): Promise<Level[]> {
  return knex('school_levels').orderBy('sort_order').select('code', 'name');
}

/** The schools of one district and level, by name (the login page's 學校 list). */
export async function listSchools(knex: Knex, districtId: number, level: string): Promise<SchoolOption[]> {
  const rows = await knex('schools')
    .where({ district_id: districtId, level })
    .orderBy([{ column: 'name' }, { column: 'id' }])
    .select('id', 'code', 'name', 'district_id', 'level');
  return rows.map((r) => ({ id: r.id, code: r.code, name: r.name, districtId: r.district_id, level: r.level }));
}

export async function findSchool(knex: Knex, id: number): Promise<(SchoolOption & { districtName: string }) | undefined> {
  const r = await knex('schools as s')
    .join('districts as d', 'd.id', 's.district_id')
    .where('s.id', id)
    .first('s.id', 's.code', 's.name', 's.district_id', 's.level', 'd.name as district_name');
  return r
    ? { id: r.id, code: r.code, name: r.name, districtId: r.district_id, level: r.level, districtName: r.district_name }
    : undefined;
}
