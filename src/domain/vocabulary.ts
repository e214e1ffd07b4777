/**
 * The portal's words, defined once: roles and school levels, with the zh-TW label every page, CSV and script
 * shows. (The SMS words are in sms/sms-words.ts; the subscription states and their labels beside the lifecycle,
 * in subscriptions/lifecycle.ts.)
 */
export const ROLES = ['parent', 'teacher', 'school_admin'] as const;
export type Role = (typeof ROLES)[number];

/** 身分別. `system` is the bureau's operators, who act through the scripts only. */
export const ROLE_LABELS: Record<Role | 'system', string> = {
  parent: '家長',
  teacher: '教師',
  school_admin: '學校管理者',
  system: '系統管理員',
};

export const LEVELS = ['elementary', 'junior_high', 'senior_high', 'vocational'] as const;
export type Level = (typeof LEVELS)[number];

/** 級別. */
export const LEVEL_LABELS: Record<Level, string> = {
  elementary: '國小',
  junior_high: '國中',
  senior_high: '高中',
  vocational: '高職',
};

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);
export const isLevel = (v: unknown): v is Level => typeof v === 'string' && (LEVELS as readonly string[]).includes(v);
