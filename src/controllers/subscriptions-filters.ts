/**
 * The query strings of the SMS lists, validated with zod over a copy of req.query (the list kit, list-kit.ts):
 * strict (unknown keys refused), one string per key (arrays refused), enums for states, ids range-checked.
 */
import { z } from 'zod';
import { optionalId, text } from '../validation.js';
import { listQuery } from './list-kit.js';
import {
  APPLICANT_OPTIONS,
  CANCELLATION_STATUS_OPTIONS,
  KIND_OPTIONS,
  ORDER_STATUS_OPTIONS,
} from '../domain/subscriptions/lifecycle.js';

const choice = <T extends readonly (readonly [string, string])[]>(options: T, message: string) =>
  z
    .union([z.literal(''), z.enum(options.map(([v]) => v) as [T[number][0], ...T[number][0][]], { error: message })], {
      error: message,
    })
    .optional()
    .transform((v) => (v === '' ? undefined : v));

const studentNumber = text(16)
  .refine((v) => v === '' || /^[0-9A-Za-z]{1,16}$/.test(v), '學號只能是英文字母與數字')
  .optional()
  .transform((v) => (v ? v : undefined));

const seat = text(2)
  .refine((v) => v === '' || /^[1-9]\d?$/.test(v), '座號應為 1 到 99 的數字')
  .optional()
  .transform((v) => (v ? Number(v) : undefined));

const name = text(20)
  .optional()
  .transform((v) => (v ? v : undefined));

const common = {
  schoolId: optionalId,
  classId: optionalId,
  name,
  studentNumber,
  seat,
  applicant: choice(APPLICANT_OPTIONS, '申請人員的選項不正確'),
  notice: z.enum(['pending-review', 'order-pending', 'order-pending-next'], { error: '格式有誤' }).optional(),
};

export const orderListQuery = listQuery({
  ...common,
  status: choice(ORDER_STATUS_OPTIONS, '狀態的選項不正確'),
});

export const cancellationListQuery = listQuery({
  ...common,
  periodId: optionalId,
  status: choice(CANCELLATION_STATUS_OPTIONS, '狀態的選項不正確'),
});

export const reviewListQuery = listQuery({
  classId: optionalId,
  kind: choice(KIND_OPTIONS, '申請類別的選項不正確'),
});
