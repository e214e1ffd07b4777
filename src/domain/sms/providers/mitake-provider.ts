/**
 * 三竹資訊 Mitake HTTP API (SMS_PROVIDER=mitake).
 *
 * Request: `POST <MITAKE_URL>?CharsetURL=UTF8` (MITAKE_URL is the gateway's SmSend address, e.g.
 * `https://<gateway host>/api/mtk/SmSend`), `application/x-www-form-urlencoded` body with
 * `username`, `password`, `dstaddr` (09XXXXXXXX), `smbody` (UTF-8 text), `clientid` (our id: the gateway
 * refuses a repeated clientid within 12 hours, which narrows the at-least-once window) and optionally
 * `response` (the delivery-report callback URL).
 *
 * Response: text lines, e.g.
 *   [1]
 *   msgid=1234567890
 *   statuscode=1
 *   AccountPoint=98
 * statuscode 0 預約傳送中, 1/2 已送達業者 (3 in older documents), 4 已送達手機 = accepted. Everything else is an
 * error: account/system codes (`*`, a, b, c, d, e, f, h, k, m, n, p, r, s) may succeed later and are retried;
 * message codes (t 簡訊已過期, u 內容空白, v 無效的手機號碼, 5 內容有錯誤, 6 門號有錯誤, 7 簡訊已停用,
 * 8 逾時無送達, 9 預約已取消) cannot and fail at once. A repeated clientid is answered with the first
 * message's msgid and status (plus `Duplicate=Y`), which therefore counts as accepted: it went out once.
 */
import { type OutgoingSms, type SendResult, type SmsProvider } from './provider.js';
import { maskPhone } from '../../phones/phone-number.js';
import type { Logger } from '../../../logger.js';
import type { SmsFailureCode } from '../sms-words.js';

export const MITAKE_STATUS: Record<string, string> = {
  '*': '系統發生錯誤，請聯絡三竹資訊窗口人員',
  a: '簡訊發送功能暫時停止服務，請稍候再試',
  b: '簡訊發送功能暫時停止服務，請稍候再試',
  c: '請輸入帳號',
  d: '請輸入密碼',
  e: '帳號、密碼錯誤',
  f: '帳號已過期',
  h: '帳號已被停用',
  k: '無效的連線位址',
  m: '必須變更密碼，在變更密碼前，無法使用簡訊發送服務',
  n: '密碼已逾期，在變更密碼前，將無法使用簡訊發送服務',
  p: '沒有權限使用外部Http程式',
  r: '系統暫停服務，請稍後再試',
  s: '帳務處理失敗，無法發送簡訊',
  t: '簡訊已過期',
  u: '簡訊內容不得為空白',
  v: '無效的手機號碼',
  '0': '預約傳送中',
  '1': '已送達業者',
  '2': '已送達業者',
  '3': '已送達業者',
  '4': '已送達手機',
  '5': '內容有錯誤',
  '6': '門號有錯誤',
  '7': '簡訊已停用',
  '8': '逾時無送達',
  '9': '預約已取消',
};

export const MITAKE_ACCEPTED = new Set(['0', '1', '2', '3', '4']);
const MITAKE_PERMANENT = new Set(['t', 'u', 'v', '5', '6', '7', '8', '9']);
/** Delivery-report codes: 4 delivered; 5–9 never will be. */
export const MITAKE_DELIVERED = new Set(['4']);
export const MITAKE_UNDELIVERABLE = new Set(['5', '6', '7', '8', '9']);

/** Mitake's error statuscodes in the vocabulary the school office reads (sms-words.ts). */
const MITAKE_FAILURE: Record<string, SmsFailureCode> = {
  v: 'invalid_number',
  '6': 'invalid_number',
  '7': 'number_suspended',
  t: 'undelivered',
  '8': 'undelivered',
  u: 'bad_content',
  '5': 'bad_content',
  '9': 'cancelled',
  s: 'insufficient_balance',
  c: 'account_error',
  d: 'account_error',
  e: 'account_error',
  f: 'account_error',
  h: 'account_error',
  k: 'account_error',
  m: 'account_error',
  n: 'account_error',
  p: 'account_error',
  '*': 'gateway_error',
  a: 'gateway_error',
  b: 'gateway_error',
  r: 'gateway_error',
};

/** The failure code for a Mitake statuscode (a send reply or a delivery report); anything else: unknown. */
export function mitakeFailureCode(statuscode: string): SmsFailureCode {
  return MITAKE_FAILURE[statuscode] ?? 'unknown';
}

export interface MitakeOptions {
  url: string;
  username: string;
  password: string;
  /** Delivery-report callback (with its token), or undefined for none. */
  callbackUrl?: string | undefined;
  timeoutMs?: number;
  logger?: Logger | undefined;
}

/** Parse the gateway's `key=value` lines (first message block). */
export function parseMitakeResponse(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || /^\[\d+\]$/.test(line)) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!(key in out)) out[key] = line.slice(eq + 1).trim();
  }
  return out;
}

export class MitakeProvider implements SmsProvider {
  readonly name = 'mitake';
  constructor(private readonly o: MitakeOptions) {}

  async send(sms: OutgoingSms): Promise<SendResult> {
    const url = new URL(this.o.url);
    url.searchParams.set('CharsetURL', 'UTF8');
    const form = new URLSearchParams({
      username: this.o.username,
      password: this.o.password,
      dstaddr: sms.phone,
      smbody: sms.body,
      clientid: `sms-${sms.id}`,
    });
    if (this.o.callbackUrl) form.set('response', this.o.callbackUrl);

    let text: string;
    let httpStatus: number;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      httpStatus = res.status;
      text = await res.text();
    } catch (err) {
      const why = err instanceof Error ? err.name : 'error';
      // AbortSignal.timeout() rejects with a TimeoutError; anything else is a connection that never answered.
      const timedOut = why === 'TimeoutError' || why === 'AbortError';
      this.o.logger?.warn({ outboxId: sms.id, to: maskPhone(sms.phone), why }, 'mitake unreachable');
      return {
        ok: false,
        error: timedOut ? '三竹簡訊閘道逾時' : '三竹簡訊閘道無法連線',
        permanent: false,
        code: timedOut ? 'gateway_timeout' : 'unreachable',
      };
    }
    if (httpStatus < 200 || httpStatus >= 300) {
      return { ok: false, error: `三竹簡訊閘道回應 HTTP ${httpStatus}`, permanent: false, code: 'gateway_error' };
    }
    const r = parseMitakeResponse(text.slice(0, 10_000));
    const code = r.statuscode ?? '';
    if (MITAKE_ACCEPTED.has(code) && r.msgid) {
      this.o.logger?.info({ outboxId: sms.id, to: maskPhone(sms.phone), statuscode: code }, 'mitake accepted');
      return { ok: true, providerMessageId: r.msgid.slice(0, 64) };
    }
    const label = MITAKE_STATUS[code] ?? '無法辨識的回應';
    this.o.logger?.warn({ outboxId: sms.id, to: maskPhone(sms.phone), statuscode: code.slice(0, 4) }, 'mitake refused');
    return {
      ok: false,
      error: `三竹 statuscode=${code.slice(0, 4) || '(none)'}：${label}`,
      permanent: MITAKE_PERMANENT.has(code),
      code: mitakeFailureCode(code),
    };
  }
}
