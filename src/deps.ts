import type { Request } from 'express';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/connection.js';
import type { Logger } from './logger.js';
import type { CurrentUser } from './domain/accounts/current-user.js';

/** What the app is built from; tests pass their own clock and database. */
export interface AppDeps {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The signed-in user, loaded by the auth middleware. */
      user?: CurrentUser;
      /** Staff: the requests waiting for review (the menu's 審核 badge), when read with the session. */
      reviewCount?: number;
    }
  }
}

export const depsOf = (req: Request): AppDeps => req.app.locals.deps as AppDeps;

/** The signed-in user of a route behind `requireUser` (throws if the middleware was forgotten). */
export function userOf(req: Request): CurrentUser {
  if (!req.user) throw new Error('userOf() on a route without requireUser');
  return req.user;
}
