/**
 * The Mitake delivery-report callback: `GET|POST /api/v1/sms/mitake/callback?token=…&msgid=…&statuscode=…`
 * (the gateway appends msgid, dstaddr, dlvtime, donetime, statuscode, statusstr, StatusFlag to the
 * `response` URL we give it). Protected by SMS_CALLBACK_TOKEN in the URL; without a configured token the
 * endpoint does not exist. What a statuscode does to the message is src/domain/sms/delivery-reports.ts's.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { depsOf } from '../deps.js';
import { recordMitakeReport } from '../domain/sms/delivery-reports.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

function one(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export async function mitakeCallback(req: Request, res: Response): Promise<void> {
  const { config, db, clock } = depsOf(req);
  res.set('Cache-Control', 'no-store');
  const expected = config.sms.callbackToken;
  const source = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
  const token = one(req.query.token) ?? one(source.token) ?? '';
  if (!expected || !timingSafeEqual(digest(token), digest(expected))) {
    req.log.warn('sms callback refused: bad token');
    res.status(404).type('text/plain').send('not found');
    return;
  }
  const msgid = one(source.msgid) ?? '';
  const statuscode = one(source.statuscode) ?? '';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(msgid) || !/^[0-9A-Za-z*]{1}$/.test(statuscode)) {
    res.status(400).type('text/plain').send('bad request');
    return;
  }
  const updated = await recordMitakeReport(db.knex, { msgid, statuscode, now: clock.now() });
  req.log.info({ statuscode, updated }, 'sms delivery report');
  // The gateway expects this acknowledgement; otherwise it calls again.
  res.type('text/plain').send(`magicid=sms_gateway_rpack\nmsgid=${msgid}\n`);
}
