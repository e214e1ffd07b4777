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
  /** `permanent`: retrying this message cannot help (bad number, bad content): mark it failed now. */
  | { ok: false; error: string; permanent: boolean };

export interface SmsProvider {
  readonly name: 'log' | 'mitake' | string;
  send(sms: OutgoingSms): Promise<SendResult>;
}

