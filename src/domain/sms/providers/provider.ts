import type { SmsFailureCode } from '../sms-words.js';

/** What the dispatcher needs from an SMS gateway. */
export interface OutgoingSms {
  /** The outbox row id (also sent to gateways that de-duplicate by a client id). */
  id: number;
  /** `09XXXXXXXX`. */
  phone: string;
  body: string;
}

export type SendResult =
  | { ok: true; providerMessageId: string }
  /**
   * `permanent`: retrying this message cannot help (bad number, bad content): mark it failed now.
   * `code`: why, in the vocabulary the pages show (sms-words.ts); `error`: the technical detail for operators
   * (kept in last_error, never shown on a page, never with a phone number).
   */
  | { ok: false; error: string; permanent: boolean; code: SmsFailureCode };

export interface SmsProvider {
  readonly name: 'log' | 'mitake' | string;
  send(sms: OutgoingSms): Promise<SendResult>;
}
