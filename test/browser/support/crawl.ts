/** Every page a signed-in person reaches from the menu (主選單) and the sub-menus (.sub-nav) of those pages. */
import type { Page } from 'playwright-core';

async function navLinks(page: Page, baseUrl: string): Promise<string[]> {
  const hrefs = await page
    .locator('nav.menu a[href], .sub-nav a[href], nav[aria-label] a[href]')
    .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
  return hrefs
    .filter((h) => h.startsWith(baseUrl))
    .map((h) => {
      const u = new URL(h);
      return u.pathname + u.search;
    })
    .filter((p) => !p.startsWith('/logout') && !p.startsWith('/auth/') && !p.startsWith('/public/'));
}

/** Visit from `/`, breadth first, following menu and sub-menu links (at most `max` pages). */
export async function menuPages(page: Page, baseUrl: string, max = 40): Promise<string[]> {
  const seen = new Set<string>(['/']);
  const queue = ['/'];
  const order: string[] = [];
  while (queue.length > 0 && order.length < max) {
    const path = queue.shift()!;
    const res = await page.goto(path);
    order.push(path);
    if (!res || res.status() >= 400) continue;
    for (const link of await navLinks(page, baseUrl)) {
      if (!seen.has(link)) {
        seen.add(link);
        queue.push(link);
      }
    }
  }
  return order;
}
