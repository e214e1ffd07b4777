import type { Request } from 'express';
import type { Knex } from 'knex';

export interface AuditEntry {
  action: string;
  actorAccountId?: number | undefined;
  schoolId?: number | undefined;
  targetType?: string;
  targetId?: string | number;
  details?: Record<string, unknown>;
}

/** Append to the audit log. Never pass a password, a captcha answer, a token or a whole phone number. */
export async function audit(knex: Knex, req: Request | undefined, e: AuditEntry): Promise<void> {
  await knex('audit_log').insert({
    actor_account_id: e.actorAccountId ?? req?.user?.accountId ?? null,
    school_id: e.schoolId ?? req?.user?.schoolId ?? null,
    action: e.action,
    target_type: e.targetType ?? null,
    target_id: e.targetId === undefined ? null : String(e.targetId),
    ip: req?.ip ?? null,
    request_id: req ? String(req.id ?? '') : null,
    details: JSON.stringify(e.details ?? {}),
  });
}
