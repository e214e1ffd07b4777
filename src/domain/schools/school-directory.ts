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

/**
 * What the login page lists, in one round trip: the districts and levels, and the schools of the chosen
 * district and level — by default the first district and the first level (their sort order), as the page shows.
 */
export async function loginDirectory(
  knex: Knex,
  chosen: { districtId?: number | undefined; level?: string | undefined },
): Promise<{
  districts: District[];
  levels: Level[];
  schools: SchoolOption[];
  districtId: number | undefined;
  level: string | undefined;
}> {
  const { rows } = await knex.raw<{
    rows: {
      districts: District[];
      levels: Level[];
      district_id: number | null;
      level: string | null;
      schools: { id: number; code: string; name: string; district_id: number; level: string }[];
    }[];
  }>(
    `with d as (select id, name, sort_order from districts),
          l as (select code, name, sort_order from school_levels),
          pick as (select coalesce(?::int, (select id from d order by sort_order limit 1)) as district_id,
                          coalesce(?::text, (select code from l order by sort_order limit 1)) as level)
     select (select coalesce(json_agg(json_build_object('id', id, 'name', name) order by sort_order), '[]') from d) as districts,
            (select coalesce(json_agg(json_build_object('code', code, 'name', name) order by sort_order), '[]') from l) as levels,
            pick.district_id, pick.level,
            (select coalesce(json_agg(json_build_object('id', s.id, 'code', s.code, 'name', s.name, 'district_id', s.district_id, 'level', s.level)
                                      order by s.name, s.id), '[]')
               from schools s where s.district_id = pick.district_id and s.level = pick.level) as schools
     from pick`,
    [chosen.districtId ?? null, chosen.level ?? null],
  );
  const r = rows[0]!;
  return {
    districts: r.districts,
    levels: r.levels,
    schools: r.schools.map((s) => ({
      id: s.id,
      code: s.code,
      name: s.name,
      districtId: s.district_id,
      level: s.level,
    })),
    districtId: r.district_id ?? undefined,
    level: r.level ?? undefined,
  };
}

export async function findSchool(
  knex: Knex,
  id: number,
): Promise<(SchoolOption & { districtName: string }) | undefined> {
  const r = await knex('schools as s')
    .join('districts as d', 'd.id', 's.district_id')
    .where('s.id', id)
    .first('s.id', 's.code', 's.name', 's.district_id', 's.level', 'd.name as district_name');
  return r
    ? { id: r.id, code: r.code, name: r.name, districtId: r.district_id, level: r.level, districtName: r.district_name }
    : undefined;
}
