/**
 * The menus, defined once: every entry's zh-TW label, address, the menus it appears in and the roles that may
 * open it. The partials render the signed-in user's entries from here (`res.locals.menus`), and the page's
 * route checks its role with `allow(key)` from the same entry, so a link and its route cannot disagree.
 * A role an entry does not list neither sees the link nor finds the page (404, as for a page that is not there).
 */
import type { Request, RequestHandler } from 'express';
import { ROLES, type Role } from '../domain/vocabulary.js';
import { requireRole } from '../middleware/auth.js';

/** 主選單 (every signed-in page), 到離校簡訊服務's sub-menu, 出勤管理's sub-menu. */
export type MenuName = 'main' | 'sms' | 'attendance';

export interface MenuEntry {
  label: string;
  href: string;
  /** The menus the entry appears in, each in the order of this table. */
  menus: readonly MenuName[];
  roles: readonly Role[];
  /** The entry shows the count of requests waiting for review (staff). */
  badge?: 'reviews';
  /** Marked as the current page on its own address only, not on the pages below it. */
  exact?: boolean;
}

const EVERYONE = ROLES;
const STAFF = ['teacher', 'school_admin'] as const;
const OFFICE = ['school_admin'] as const;

export const MENU = {
  home: { label: '首頁', href: '/', menus: ['main'], roles: EVERYONE, exact: true },
  account: { label: '我的帳號', href: '/account', menus: ['main'], roles: EVERYONE },
  attendance: { label: '出勤管理', href: '/attendance', menus: ['main'], roles: EVERYONE },
  announcements: { label: '公告資訊服務', href: '/announcements', menus: ['main'], roles: EVERYONE },
  reports: { label: '統計報表', href: '/reports', menus: ['main'], roles: EVERYONE },
  sms: { label: '到離校簡訊服務', href: '/sms', menus: ['main'], roles: EVERYONE, badge: 'reviews' },
  messages: { label: '訊息發送服務', href: '/messages', menus: ['main'], roles: EVERYONE },

  'sms.subscriptions': { label: '到離校簡訊訂購服務', href: '/sms/subscriptions', menus: ['sms'], roles: EVERYONE },
  'sms.cancellations': { label: '到離校簡訊註銷服務', href: '/sms/cancellations', menus: ['sms'], roles: EVERYONE },
  'sms.phones': { label: '到離校簡訊註冊服務', href: '/sms/phones', menus: ['sms'], roles: EVERYONE },
  reviews: { label: '審核', href: '/reviews', menus: ['sms'], roles: STAFF, badge: 'reviews' },
  'sms.periods': { label: '簡訊服務期間', href: '/sms/periods', menus: ['sms'], roles: STAFF },
  'sms.log': { label: '簡訊發送紀錄', href: '/sms/log', menus: ['sms'], roles: STAFF },
  'sms.payments': { label: '繳費管理', href: '/sms/payments', menus: ['sms'], roles: OFFICE },

  'attendance.class': { label: '班級出勤', href: '/attendance', menus: ['attendance'], roles: EVERYONE, exact: true },
  'attendance.calendar': { label: '學校行事曆', href: '/attendance/calendar', menus: ['attendance'], roles: OFFICE },
  'swipes.unmatched': { label: '未對應刷卡', href: '/swipes/unmatched', menus: ['sms', 'attendance'], roles: OFFICE },
  'swipes.cards': { label: '卡片管理', href: '/swipes/cards', menus: ['sms', 'attendance'], roles: OFFICE },
  'sms.teachers': { label: '教師與班級', href: '/sms/teachers', menus: ['sms'], roles: OFFICE },
} as const satisfies Record<string, MenuEntry>;

export type MenuKey = keyof typeof MENU;

const ENTRIES = Object.entries(MENU) as [MenuKey, MenuEntry][];

/** The route's role check of a menu page: only the roles of its entry get past (the others: 404). */
export function allow(key: MenuKey): RequestHandler {
  return requireRole(...MENU[key].roles);
}

/** One link of a menu as the partials render it. */
export interface MenuLink {
  key: MenuKey;
  label: string;
  href: string;
  current: boolean;
  badge: 'reviews' | undefined;
}

/** The entries a role sees, per menu, in the table's order, the one of the page being shown marked current. */
export function menusFor(role: Role, currentPath: Request['path']): Record<MenuName, MenuLink[]> {
  const out: Record<MenuName, MenuLink[]> = { main: [], sms: [], attendance: [] };
  for (const [key, e] of ENTRIES) {
    if (!e.roles.includes(role)) continue;
    const current = currentPath === e.href || (!e.exact && e.href !== '/' && currentPath.startsWith(`${e.href}/`));
    for (const menu of e.menus) out[menu].push({ key, label: e.label, href: e.href, current, badge: e.badge });
  }
  return out;
}

export const NO_MENUS: Record<MenuName, MenuLink[]> = { main: [], sms: [], attendance: [] };
