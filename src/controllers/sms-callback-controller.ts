/**
 * The Mitake delivery-report callback: `GET|POST /api/v1/sms/mitake/callback?token=…&msgid=…&statuscode=…`
 * (the gateway appends msgid, dstaddr, dlvtime, donetime, statuscode, statusstr, StatusFlag to the
 * `response` URL we give it). Protected by SMS_CALLBACK_TOKEN in the URL; without a configured token the
 * endpoint does not exist. statuscode 4 → delivered; 5–9 → failed; anything else leaves the row as it is. The
 * change is counted in the school's daily figures (reports/daily-figures.ts) in the same transaction.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { depsOf } from '../deps.js';
import { countSmsChanges } from '../domain/reports/daily-figures.js';
import {
  MITAKE_DELIVERED,
  MITAKE_STATUS,
  MITAKE_UNDELIVERABLE,
  mitakeFailureCode,
} from '../domain/sms/providers/mitake-provider.js';

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
  let updated = 0;
  const report = MITAKE_DELIVERED.has(statuscode)
    ? {
        from: ['sent', 'sending', 'failed'],
        set: { status: 'delivered', delivered_at: clock.now(), claimed_until: null },
      }
    : MITAKE_UNDELIVERABLE.has(statuscode)
      ? {
          from: ['sent', 'sending'],
          set: {
            status: 'failed',
            claimed_until: null,
            failure_code: mitakeFailureCode(statuscode),
            last_error: `三竹 statuscode=${statuscode}：${MITAKE_STATUS[statuscode] ?? ''}（傳送報告）`,
          },
        }
      : undefined;
  if (report) {
    updated = await db.knex.transaction(async (trx) => {
      // The rows as they were (locked), so the school's daily figures move each from its old state to the new.
      const rows: {
        id: number;
        status: string;
        school_id: number | null;
        student_id: number | null;
        created_at: Date;
      }[] = await trx('sms_outbox')
        .where({ provider: 'mitake', provider_message_id: msgid })
        .whereIn('status', report.from)
        .forUpdate()
        .select('id', 'status', 'school_id', 'student_id', 'created_at');
      if (rows.length === 0) return 0;
      await trx('sms_outbox')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .update(report.set);
      await countSmsChanges(
        trx,
        rows.map((r) => ({
          schoolId: r.school_id,
          studentId: r.student_id,
          createdAt: r.created_at,
          from: r.status,
          to: report.set.status,
        })),
      );
      return rows.length;
    });
  }
  req.log.info({ statuscode, updated }, 'sms delivery report');
  // The gateway expects this acknowledgement; otherwise it calls again.
  res.type('text/plain').send(`magicid=sms_gateway_rpack\nmsgid=${msgid}\n`);
}
