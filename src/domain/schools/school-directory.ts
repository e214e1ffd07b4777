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

/** The whole directory the login page lists from: districts and levels in their order, every school by name. */
export interface Directory {
  districts: District[];
  levels: Level[];
  /** Every school, by name then id (PostgreSQL's collation, as the lists always were). */
  schools: SchoolOption[];
}

/**
 * The reference lists in memory, per database (Knex instance), for `maxAgeMs`. They change only when the
 * reference data is loaded (`npm run seed`, the admin scripts), never from a page, so a stale copy is harmless:
 * a school just added appears on the login page at most `maxAgeMs` later in each portal process (every process of
 * WEB_CONCURRENCY keeps its own copy and reloads it on its own), and sign-in itself never trusts the list (it
 * looks the school up in the database: findSchool). Concurrent requests share one load; a failed load is not
 * kept.
 */
const directories = new WeakMap<Knex, { loadedAt: number; directory: Promise<Directory> }>();

/** The directory: from memory while younger than `maxAgeMs` (0: read now), otherwise in one statement. */
export function schoolDirectory(knex: Knex, maxAgeMs: number, now = Date.now()): Promise<Directory> {
  const held = directories.get(knex);
  if (held && maxAgeMs > 0 && now >= held.loadedAt && now - held.loadedAt < maxAgeMs) return held.directory;
  const directory = readDirectory(knex);
  if (maxAgeMs > 0) {
    const entry = { loadedAt: now, directory };
    directories.set(knex, entry);
    directory.catch(() => {
      if (directories.get(knex) === entry) directories.delete(knex);
    });
  }
  return directory;
}

async function readDirectory(knex: Knex): Promise<Directory> {
  const { rows } = await knex.raw<{
    rows: {
      districts: District[];
      levels: Level[];
      schools: { id: number; code: string; name: string; district_id: number; level: string }[];
    }[];
  }>(
    `select (select coalesce(json_agg(json_build_object('id', id, 'name', name) order by sort_order), '[]') from districts) as districts,
            (select coalesce(json_agg(json_build_object('code', code, 'name', name) order by sort_order), '[]') from school_levels) as levels,
            (select coalesce(json_agg(json_build_object('id', s.id, 'code', s.code, 'name', s.name, 'district_id', s.district_id, 'level', s.level)
                                      order by s.name, s.id), '[]') from schools s) as schools`,
  );
  const r = rows[0]!;
  // Frozen: one copy serves every request while it is held.
  return Object.freeze({
    districts: Object.freeze(r.districts.map((d) => Object.freeze(d))) as District[],
    levels: Object.freeze(r.levels.map((l) => Object.freeze(l))) as Level[],
    schools: Object.freeze(
      r.schools.map((s) =>
        Object.freeze({ id: s.id, code: s.code, name: s.name, districtId: s.district_id, level: s.level }),
      ),
    ) as SchoolOption[],
  });
}

/** The schools of one district and level, by name (the login page's 學校 list, /api/schools). */
export async function listSchools(
  knex: Knex,
  districtId: number,
  level: string,
  maxAgeMs = 0,
): Promise<SchoolOption[]> {
  const { schools } = await schoolDirectory(knex, maxAgeMs);
  return schools.filter((s) => s.districtId === districtId && s.level === level);
}

/**
 * What the login page lists: the districts and levels, and the schools of the chosen district and level — by
 * default the first district and the first level (their sort order), as the page shows. From the directory
 * (one statement, or none while the copy in memory is younger than `maxAgeMs`).
 */
export async function loginDirectory(
  knex: Knex,
  chosen: { districtId?: number | undefined; level?: string | undefined },
  maxAgeMs = 0,
): Promise<{
  districts: District[];
  levels: Level[];
  schools: SchoolOption[];
  districtId: number | undefined;
  level: string | undefined;
}> {
  const { districts, levels, schools } = await schoolDirectory(knex, maxAgeMs);
  const districtId = chosen.districtId ?? districts[0]?.id;
  const level = chosen.level ?? levels[0]?.code;
  return {
    districts,
    levels,
    schools: schools.filter((s) => s.districtId === districtId && s.level === level),
    districtId,
    level,
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
