/**
 * Several reads in one round trip. A page that needs four small reads pays four round trips (each ≈ 0.4 ms of the
 * portal's CPU before PostgreSQL works, and a parse and plan there; docs/performance.md §3): folded, they are one
 * SELECT whose columns are the reads' rows, each aggregated to JSON.
 *
 * A read that can be folded is a `Folded<T>`: its SQL (built by the same query builder its own function runs, so
 * the rule and the scope stay in one place) and how its value becomes the answer (the same row mapping; a
 * timestamp arrives from JSON as text: `asDate`). `readFolded` sends any set of them as one statement. A reader
 * made of two reads (studentGrid: days and holidays) is `readFolded` of its one part even when asked alone.
 */
import type { Knex } from 'knex';
import { prepared } from '../db/prepared.js';

export interface Folded<T> {
  /** A scalar expression (usually `jsonRows(…)`); undefined when the answer needs no database (e.g. no child). */
  sql: Knex.Raw | undefined;
  /** The expression's value (parsed JSON) → the answer. */
  read(value: unknown): T;
}

/** A column of a builder's output and its direction: the builder's ORDER BY, reused for its JSON rows. */
export interface RowOrder {
  column: string;
  order: 'asc' | 'desc';
}

/**
 * The rows of `q` as one JSON array (`[]` when none), in `order` — the builder's own ORDER BY (which picks the
 * rows its LIMIT keeps), said again on the aggregate because an aggregate does not promise its input's order. The
 * columns are named as the builder outputs them (`an.published_at` → `published_at`).
 */
export function jsonRows(knex: Knex, q: Knex.QueryBuilder, order: readonly RowOrder[] = []): Knex.Raw {
  const by = order.map((o) => `?? ${o.order === 'desc' ? 'desc' : 'asc'}`).join(', ');
  return knex.raw(
    `(select coalesce(json_agg(folded_row${by ? ` order by ${by}` : ''}), '[]'::json) from (?) folded_row)`,
    [...order.map((o) => `folded_row.${o.column.slice(o.column.lastIndexOf('.') + 1)}`), q],
  );
}

/** A part's answer passed through `f` (the same SQL). */
export function mapFolded<A, T>(part: Folded<A>, f: (a: A) => T): Folded<T> {
  return { sql: part.sql, read: (v) => f(part.read(v)) };
}

/** A part whose answer is known without the database. */
export function known<T>(value: T): Folded<T> {
  return { sql: undefined, read: () => value };
}

/** Two parts as one (a JSON array of their two values), e.g. a grid's days and its school's holidays. */
export function both<A, B, T>(knex: Knex, a: Folded<A>, b: Folded<B>, combine: (a: A, b: B) => T): Folded<T> {
  return {
    sql: knex.raw('json_build_array(?, ?)', [a.sql ?? knex.raw('null'), b.sql ?? knex.raw('null')]),
    read: (v) => {
      const [va, vb] = v as [unknown, unknown];
      return combine(a.read(va), b.read(vb));
    },
  };
}

type Answers<P> = { [K in keyof P]: P[K] extends Folded<infer T> ? T : never };

/** Every part's answer, from one statement (none when no part needs the database). */
export async function readFolded<P extends Record<string, Folded<unknown>>>(
  knex: Knex | Knex.Transaction,
  parts: P,
): Promise<Answers<P>> {
  const asked = Object.entries(parts).filter(([, p]) => p.sql !== undefined);
  const row: Record<string, unknown> =
    asked.length === 0
      ? {}
      : // A prepared statement on a server: a folded page's parts are planned once per connection (the parent's
        // 首頁 took ~7 ms to plan its decision notices' join and 0.1 ms to run it).
        ((await prepared(knex.select(Object.fromEntries(asked.map(([k, p]) => [k, p.sql!])))).first()) as Record<
          string,
          unknown
        >);
  return Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, p.read(row[k])])) as Answers<P>;
}

/** A timestamp as read directly (a Date) or from JSON (an ISO 8601 string); null stays null. */
export function asDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(v as string);
}
export function asDateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : asDate(v);
}
