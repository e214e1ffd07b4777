/**
 * The Mitake delivery report (傳送報告): statuscode 4 → delivered; 5–9 → failed (undeliverable); anything else
 * leaves the row as it is. The change itself, and its count in the school's daily figures, is outbox-status.ts's.
 */
import type { Knex } from 'knex';
import { deliveryReported, type DeliveryReport } from './outbox-status.js';
import {
  MITAKE_DELIVERED,
  MITAKE_STATUS,
  MITAKE_UNDELIVERABLE,
  mitakeFailureCode,
} from './providers/mitake-provider.js';

/** What a Mitake statuscode says about a message, or undefined when it says nothing final. */
export function mitakeReport(statuscode: string): DeliveryReport | undefined {
  if (MITAKE_DELIVERED.has(statuscode)) return { delivered: true };
  if (MITAKE_UNDELIVERABLE.has(statuscode))
    return {
      delivered: false,
      failureCode: mitakeFailureCode(statuscode),
      lastError: `三竹 statuscode=${statuscode}：${MITAKE_STATUS[statuscode] ?? ''}（傳送報告）`,
    };
  return undefined;
}

/** Apply a Mitake delivery report to the message it names (`msgid`); returns how many rows changed. */
export async function recordMitakeReport(
  knex: Knex,
  r: { msgid: string; statuscode: string; now: Date },
): Promise<number> {
  const report = mitakeReport(r.statuscode);
  if (!report) return 0;
  return deliveryReported(knex, { provider: 'mitake', providerMessageId: r.msgid, report, now: r.now });
}
