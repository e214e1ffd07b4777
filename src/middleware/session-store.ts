import session, { type SessionData } from 'express-session';
import type { Request } from 'express';
import type pg from 'pg';
import { USER_CTES, USER_SELECT, type UserRow } from '../domain/accounts/current-user.js';

/**
 * The session store: sessions in PostgreSQL's `session` table (sid, sess json, expire), the table and format
 * connect-pg-simple used (so sessions written before survive, and every process of WEB_CONCURRENCY shares them),
 * with one difference that matters per request: **reading a session also reads its user**. `get` runs one
 * statement that reads the session row and, when it is signed in, the account, the parent's children or the
 * teacher's classes, and the staff's count of requests to review (USER_CTES / USER_SELECT of current-user.ts):
 * one round trip where there were three (the session, the user, the 審核 badge). loadUser then takes the user
 * from what the store read (`userReadWithSession`) instead of asking again.
 *
 * What does not change: the session is written only when express-session says it changed (resave false, no
 * `touch` at all: the row and cookie are renewed with the coarse `lastSeenAt`, see loadUser), expired rows are never
 * read and are pruned every 15 minutes (±50 %, so that several processes do not prune at once), rotation and
 * destruction are express-session's `regenerate` and `destroy` (a DELETE of the row).
 */

/** Seconds since the epoch, rounded up, as connect-pg-simple compared `expire` (the real clock, not the app's). */
const nowSeconds = () => Math.ceil(Date.now() / 1000);

/** A whole number that fits in an int column, as text — anything else in a session's ids counts as absent. */
const INT = `'^[0-9]{1,9}$'`;

/**
 * The session row, and its user when the session is signed in: `k` takes the ids from the session's JSON
 * (accountId, the Taipei Card's identityId and linked accountIds), then the user's statement reads as
 * loadCurrentUser's does. An anonymous session, or one whose account is gone, has null user columns.
 */
export const SESSION_AND_USER_SQL = `
  with sr as (select sess from "session" where sid = $1 and expire >= to_timestamp($2)),
  k as (
    select case when (sr.sess->>'accountId') ~ ${INT} then (sr.sess->>'accountId')::int end as account_id,
      case when (sr.sess->>'identityId') ~ ${INT} then (sr.sess->>'identityId')::int end as identity_id,
      array(
        select distinct x.id::int from (
          select sr.sess->>'accountId'
          union all
          select json_array_elements_text(
            case when json_typeof(sr.sess->'accountIds') = 'array' then sr.sess->'accountIds' else '[]'::json end)
        ) as x(id)
        where x.id ~ ${INT}
      ) as account_ids
    from sr where (sr.sess->>'accountId') ~ ${INT}
  ),
  ${USER_CTES}
  select sr.sess, u.* from sr left join (${USER_SELECT}) as u on true`;

type SessionUserRow = { sess: SessionData | string } & { [K in keyof UserRow]: UserRow[K] | null };

/** What `get` read beside the session: the user's row (undefined: not signed in, or the account is gone). */
export interface ReadWithSession {
  accountId: number | undefined;
  identityId: number | undefined;
  row: UserRow | undefined;
}

const READ = Symbol('read with the session');
const readFor = new WeakMap<Request, ReadWithSession>();

/** The user row the store read with this request's session, if it did (see loadUser). */
export function userReadWithSession(req: Request): ReadWithSession | undefined {
  return readFor.get(req);
}

export interface PgSessionStoreOptions {
  /**
   * Read through a named (prepared) statement: on a PostgreSQL server, not on the embedded PGlite (one backend
   * session shared by every connection, where a second connection's Parse of the same name fails).
   */
  prepared: boolean;
  /** Milliseconds between prunes of expired rows (randomised ±50 %), or false for none (tests). */
  pruneIntervalMs: number | false;
  onError(err: unknown, message: string): void;
}

/** Expired rows removed per statement by prune(). */
const PRUNE_BATCH = 5000;

export class PgSessionStore extends session.Store {
  private pruneTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private prepared: boolean;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PgSessionStoreOptions,
  ) {
    super();
    this.prepared = options.prepared;
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.schedulePrune();
    this.read(sid).then(
      ({ rows }) => {
        const found = rows[0];
        if (!found) return process.nextTick(callback, null, null);
        const { sess, ...user } = found;
        let data: SessionData;
        try {
          data = typeof sess === 'string' ? (JSON.parse(sess) as SessionData) : sess;
        } catch {
          // A row that is not JSON is no session (connect-pg-simple did the same).
          return this.destroy(sid, (err) => callback(err, null));
        }
        // A symbol key: neither saved (JSON) nor part of express-session's change detection, nor copied onto
        // req.session; createSession moves it to the request.
        (data as unknown as Record<symbol, ReadWithSession>)[READ] = {
          accountId: data.accountId,
          identityId: data.identityId,
          row: user.id === null ? undefined : (user as UserRow),
        };
        process.nextTick(callback, null, data);
      },
      (err: unknown) => process.nextTick(callback, err),
    );
  }

  /**
   * A named (prepared) statement on a server: each connection parses and plans it once. Planning this statement
   * costs 5–7 ms of PostgreSQL's CPU at city scale, running it 0.4–2.5 ms (docs/performance.md §5.4). Where the
   * name already exists on a connection that has not prepared it (42P05: a backend shared by several connections
   * or processes — the embedded PGlite reached through its URL, as the tests and child processes do), the store
   * stops naming it.
   */
  private async read(sid: string): Promise<pg.QueryResult<SessionUserRow>> {
    const values = [sid, nowSeconds()];
    if (!this.prepared) return this.pool.query<SessionUserRow>(SESSION_AND_USER_SQL, values);
    try {
      return await this.pool.query<SessionUserRow>({ name: 'session-read', text: SESSION_AND_USER_SQL, values });
    } catch (err) {
      if ((err as { code?: unknown }).code !== '42P05') throw err;
      this.prepared = false;
      return this.pool.query<SessionUserRow>(SESSION_AND_USER_SQL, values);
    }
  }

  override createSession(req: Request, data: SessionData): session.Session & SessionData {
    const read = (data as unknown as Record<symbol, ReadWithSession | undefined>)[READ];
    const created = super.createSession(req, data);
    if (read) readFor.set(req, read);
    return created;
  }

  override set(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    this.schedulePrune();
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : Date.now() + 86_400_000;
    this.run(
      `insert into "session" (sess, expire, sid) select $1, to_timestamp($2), $3
       on conflict (sid) do update set sess = $1, expire = to_timestamp($2)`,
      [sess, Math.ceil(expires / 1000), sid],
      callback,
    );
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.schedulePrune();
    this.run(`delete from "session" where sid = $1`, [sid], callback);
  }

  /** Delete the expired rows (also run by the timer). */
  async prune(): Promise<void> {
    // In batches, so that no statement outlasts the store's short deadline however many rows expired meanwhile.
    const now = nowSeconds();
    for (;;) {
      const { rowCount } = await this.pool.query(
        `delete from "session" where sid in (select sid from "session" where expire < to_timestamp($1) limit ${PRUNE_BATCH})`,
        [now],
      );
      if ((rowCount ?? 0) < PRUNE_BATCH || this.closed) break;
    }
  }

  /** Stop pruning (the pool belongs to the caller). */
  close(): void {
    this.closed = true;
    clearTimeout(this.pruneTimer);
    this.pruneTimer = undefined;
  }

  private run(sql: string, params: unknown[], callback?: (err?: unknown) => void): void {
    this.pool.query(sql, params).then(
      () => callback && process.nextTick(callback),
      (err: unknown) => (callback ? process.nextTick(callback, err) : this.options.onError(err, 'session store error')),
    );
  }

  private schedulePrune(): void {
    const every = this.options.pruneIntervalMs;
    if (every === false || this.closed || this.pruneTimer) return;
    this.pruneTimer = setTimeout(
      () => {
        this.prune().then(
          () => undefined,
          (err: unknown) => this.options.onError(err, 'session prune failed'),
        );
        this.pruneTimer = undefined;
        this.schedulePrune();
      },
      Math.ceil(every / 2 + every * Math.random()),
    );
    this.pruneTimer.unref();
  }
}
