import type { Request } from 'express';
import type { Actor } from '../domain/audit.js';

const ACTOR = Symbol('actor');

/** The request's actor for the audit log, built once per request from the signed-in user, address and id. */
export function actorOf(req: Request): Actor {
  const r = req as Request & { [ACTOR]?: Actor };
  const user = req.user;
  const cached = r[ACTOR];
  if (cached && cached.accountId === (user?.accountId ?? null)) return cached;
  const actor: Actor = {
    accountId: user?.accountId ?? null,
    schoolId: user?.schoolId ?? null,
    ip: req.ip ?? null,
    requestId: req.id === undefined ? null : String(req.id),
    via: 'web',
  };
  r[ACTOR] = actor;
  return actor;
}
