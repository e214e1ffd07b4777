/**
 * The audit log: who did what, to what, from where. Every change the domain makes is recorded here, in the same
 * transaction as the change, by the domain function that makes it.
 *
 * The actor is built once per request by the web layer (`actorOf` in src/middleware/actor.ts) or is the
 * `SCRIPT_ACTOR` of the admin scripts; the domain never sees the HTTP request.
 */
import type { Knex } from 'knex';

/** Every action the log knows, named `thing.past_tense`. Adding an action is adding it here. */
export const AUDIT_ACTIONS = [
  'account.created',
  'account.disabled',
  'announcement.created',
  'announcement.updated',
  'announcement.withdrawn',
  'attendance.export',
  'attendance.manual_entry',
  'attendance.manual_entry_corrected',
  'attendance.manual_entry_deleted',
  'card.issued',
  'card.retired',
  'decision_notice.dismissed',
  'class_teacher.assigned',
  'class_teacher.removed',
  'dismissal_times.set',
  'figures.rebuilt',
  'holiday.added',
  'holiday.removed',
  'login.failed',
  'login.locked',
  'login.locked_refused',
  'login.succeeded',
  'login.unlocked',
  'logout',
  'message.sent',
  'password.change_failed',
  'password.changed',
  'password.reset',
  'payment.recorded',
  'period.created',
  'period.updated',
  'phone.added',
  'phone.code_sent',
  'phone.removed',
  'phone.verified',
  'reader.created',
  'reader.direction_changed',
  'reader.revoked',
  'refund.paid',
  'admin.demo_city',
  'admin.import',
  'sms.resend',
  'swipe.assign',
  'swipe.ignore',
  'sms.resend_day',
  'taipei_card.first_seen',
  'taipei_card.linked',
  'taipei_card.unlinked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acts: a signed-in account (or nobody yet, at sign-in), from an address, in a request — or a script. */
export interface Actor {
  accountId: number | null;
  schoolId: number | null;
  ip: string | null;
  requestId: string | null;
  via: 'web' | 'admin script';
}

/** The system administrator's scripts: no account, no address. */
export const SCRIPT_ACTOR: Actor = Object.freeze({
  accountId: null,
  schoolId: null,
  ip: null,
  requestId: null,
  via: 'admin script',
});

/** A signed-in user acting outside a request (tests, jobs): no address, no request id. */
export function userActor(user: { accountId: number; schoolId: number }): Actor {
  return { accountId: user.accountId, schoolId: user.schoolId, ip: null, requestId: null, via: 'web' };
}

export interface AuditEntry {
  action: AuditAction;
  /** The account the entry is about when it is not the actor's own (e.g. a sign-in before the session exists). */
  actorAccountId?: number | null | undefined;
  schoolId?: number | null | undefined;
  targetType?: string;
  targetId?: string | number;
  details?: Record<string, unknown>;
}

/** Append to the audit log. Never pass a password, a captcha answer, a token or a whole phone number. */
export async function audit(knex: Knex, actor: Actor, e: AuditEntry): Promise<void> {
  const details = actor.via === 'admin script' ? { via: 'admin script', ...(e.details ?? {}) } : (e.details ?? {});
  await knex('audit_log').insert({
    actor_account_id: e.actorAccountId ?? actor.accountId,
    school_id: e.schoolId ?? actor.schoolId,
    action: e.action,
    target_type: e.targetType ?? null,
    target_id: e.targetId === undefined ? null : String(e.targetId),
    ip: actor.ip,
    request_id: actor.requestId,
    details: JSON.stringify(details),
  });
}
