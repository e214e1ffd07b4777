/**
 * Every page a signed-in person reaches from the menu (主選單), the sub-menus of those pages, and the
 * link-buttons and table links of their content (新增申請, 註銷, 退回, 編號 → 申請紀錄…): one page per route
 * (numeric ids and queries ignored), no downloads.
 */
import type { Page } from 'playwright-core';

async function navLinks(page: Page, baseUrl: string): Promise<string[]> {
  const hrefs = await page
    .locator('nav.menu a[href], .sub-nav a[href], nav[aria-label] a[href], main a.button[href], main td a[href]')
    .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
  return hrefs
    .filter((h) => h.startsWith(baseUrl))
    .map((h) => new URL(h).pathname)
    .filter(
      (p) => !p.startsWith('/logout') && !p.startsWith('/auth/') && !p.startsWith('/public/') && !/\.\w{2,4}$/.test(p),
    );
}

/** Visit from `/`, breadth first, following menu and sub-menu links (each path once, whatever its query; at most `max` pages). */
export async function menuPages(page: Page, baseUrl: string, max = 40): Promise<string[]> {
  const route = (p: string) => p.replace(/\/\d+(?=\/|$)/g, '/:id');
  const seen = new Set<string>(['/']);
  const queue = ['/'];
  const order: string[] = [];
  while (queue.length > 0 && order.length < max) {
    const path = queue.shift()!;
    const res = await page.goto(path);
    order.push(path);
    if (!res || res.status() >= 400) continue;
    for (const link of await navLinks(page, baseUrl)) {
      if (!seen.has(route(link))) {
        seen.add(route(link));
        queue.push(link);
      }
    }
  }
  return order;
}
