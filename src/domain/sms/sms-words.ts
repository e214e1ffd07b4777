/**
 * The SMS vocabulary: every word a page, a report or a CSV uses for an SMS's state, its kind and why it
 * failed. Pages never show a provider's raw reply or an exception name: only these words.
 */

/** The SMS states in the words every page uses (簡訊發送紀錄, 訊息發送服務, 統計報表). */
export const SMS_STATUS_LABELS: Record<string, string> = {
  queued: '待發送',
  sending: '發送中',
  sent: '已發送',
  delivered: '已送達',
  failed: '發送失敗',
};

export const SMS_KIND_LABELS: Record<string, string> = {
  arrival: '到校通知',
  departure: '離校通知',
  verification: '手機驗證碼',
  message: '訊息發送',
};

/**
 * Why a message failed (sms_outbox.failure_code), as the school office reads it. The codes are stored; the
 * providers map their own replies onto them (MitakeProvider: its statuscode; a network error or timeout).
 */
export const SMS_FAILURE_LABELS = {
  invalid_number: '號碼錯誤',
  number_suspended: '門號停用',
  undelivered: '逾時未送達（手機未開機或收不到訊號）',
  bad_content: '簡訊內容有誤',
  cancelled: '簡訊已被取消',
  gateway_timeout: '閘道逾時',
  unreachable: '無法連線簡訊閘道',
  gateway_error: '簡訊閘道暫時無法服務',
  insufficient_balance: '帳號餘額不足',
  account_error: '簡訊帳號設定有誤，請聯絡系統管理員',
  unknown: '發送失敗，原因不明',
} as const;

export type SmsFailureCode = keyof typeof SMS_FAILURE_LABELS;

export const SMS_FAILURE_CODES = Object.keys(SMS_FAILURE_LABELS) as SmsFailureCode[];

/** The words for a stored failure code; an unknown or missing code reads as the generic phrase. */
export function failureWords(code: string | null | undefined): string {
  return (SMS_FAILURE_LABELS as Record<string, string>)[code ?? ''] ?? SMS_FAILURE_LABELS.unknown;
}
