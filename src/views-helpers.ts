/** Formatting for templates: dates, times, ROC years, masks, labels. Pure functions only. */
import { maskPhone } from './domain/phones/phone-number.js';
import { shortDate, taipeiDate, taipeiTime, weekdayName } from './domain/time.js';

import { LEVEL_LABELS, ROLE_LABELS } from './domain/vocabulary.js';
import { SMS_KIND_LABELS, SMS_STATUS_LABELS } from './domain/sms/sms-words.js';

export { LEVEL_LABELS, ROLE_LABELS, SMS_KIND_LABELS, SMS_STATUS_LABELS };

export function formatDate(value: string | Date | null | undefined): string {
  if (value == null) return '';
  return typeof value === 'string' ? value.slice(0, 10) : taipeiDate(value);
}

export function formatTime(value: Date | null | undefined): string {
  return value ? taipeiTime(value) : '';
}

export function formatDateTime(value: Date | null | undefined): string {
  return value ? `${taipeiDate(value)} ${taipeiTime(value)}` : '';
}

export { maskPhone };

/** `0912345678` → `0912-345-678`, as a parent sees their own number. */
export function formatPhone(number: string): string {
  return /^09\d{8}$/.test(number) ? `${number.slice(0, 4)}-${number.slice(4, 7)}-${number.slice(7)}` : number;
}

export function money(amount: number | null | undefined): string {
  return amount == null ? '' : `NT$${amount.toLocaleString('en-US')}`;
}

export const helpers = {
  formatDate,
  formatTime,
  formatDateTime,
  maskPhone,
  formatPhone,
  money,
  shortDate,
  weekdayName,
  LEVEL_LABELS,
  ROLE_LABELS,
  SMS_STATUS_LABELS,
};
export type ViewHelpers = typeof helpers;
