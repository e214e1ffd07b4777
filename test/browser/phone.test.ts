/**
 * Every page of the menu on a phone (375 × 812): no horizontal scrolling, tap targets of at least 44 × 44 px
 * (buttons and links of the menus and of <main>; links inside a sentence are exempt, as in WCAG 2.5.5),
 * tables stacked or scrolling inside their own box.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { menuPages } from './support/crawl.js';
import { pendingOrder } from './support/data.js';
import { startPortal, type Portal } from './support/portal.js';
import { PARENT_CHEN, PARENT_WANG, SCHOOL_ADMIN, TEACHER_401, screenshot, signIn, type Who } from './support/ui.js';

const PHONE = { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const MIN_TAP = 44;
/** The pages whose phone screenshots are kept in test-results/screenshots/. */
const SHOOT = ['/', '/sms/subscriptions', '/sms/cancellations', '/reviews', '/attendance'];

let portal: Portal;
beforeAll(async () => {
  portal = await startPortal();
  // 陳小美's parent has a 新增申請 waiting, so the review pages show their rows, checkboxes and buttons.
  await pendingOrder(portal.knex, '11301002', portal.clock.today());
});
afterAll(async () => {
  await portal?.close();
});

async function phoneProblems(page: Page, where: string): Promise<string[]> {
  return page.evaluate(
    ({ where, minTap }) => {
      const problems: string[] = [];
      const vw = document.documentElement.clientWidth;
      const sw = document.documentElement.scrollWidth;
      if (sw > vw) {
        const wide = Array.from(document.querySelectorAll('body *'))
          .filter((e) => e.getBoundingClientRect().right > vw + 1 && !e.closest('.table-wrap, [data-scroll]'))
          .slice(0, 5)
          .map((e) => `<${e.tagName.toLowerCase()} class="${e.className}">`);
        problems.push(`${where}: scrolls sideways (scrollWidth ${sw} > ${vw}): ${wide.join(', ')}`);
      }
      const visible = (e: Element) => {
        const r = e.getBoundingClientRect();
        const s = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
      };
      /** A link inside running text (a sentence) is exempt from the target size. */
      const inSentence = (a: Element) => {
        const block = a.closest('p, li, td, dd, span, label') ?? a.parentElement;
        if (!block || a.classList.contains('button')) return false;
        return (block.textContent ?? '').trim().length > (a.textContent ?? '').trim().length;
      };
      const targets = Array.from(
        document.querySelectorAll(
          'nav a, nav button, main button, main a, main input[type=submit], main input[type=checkbox], main input[type=radio], main select, main summary',
        ),
      ).filter(
        (e) =>
          visible(e) &&
          !(e.tagName === 'A' && inSentence(e)) &&
          !e.closest('.skip-link, .visually-hidden, [aria-hidden="true"]'),
      );
      for (const t of targets) {
        let r = t.getBoundingClientRect();
        // A checkbox or radio counts with its label (the label is the target a finger presses).
        if ((t as HTMLInputElement).labels?.[0] && ['checkbox', 'radio'].includes((t as HTMLInputElement).type)) {
          const l = (t as HTMLInputElement).labels![0]!.getBoundingClientRect();
          r = new DOMRect(
            Math.min(r.x, l.x),
            Math.min(r.y, l.y),
            Math.max(r.right, l.right) - Math.min(r.x, l.x),
            Math.max(r.bottom, l.bottom) - Math.min(r.y, l.y),
          );
        }
        if (r.height < minTap - 0.5 || r.width < minTap - 0.5) {
          const name = (
            (t as HTMLElement).innerText ||
            t.getAttribute('aria-label') ||
            (t as HTMLInputElement).value ||
            t.outerHTML.slice(0, 60)
          ).trim();
          problems.push(`${where}: tap target "${name}" is ${Math.round(r.width)}×${Math.round(r.height)} px`);
        }
      }
      for (const table of Array.from(document.querySelectorAll('main table'))) {
        const stacked = getComputedStyle(table.querySelector('tbody tr') ?? table).display === 'block';
        let box: Element | null = table.parentElement;
        let scrollsInBox = false;
        while (box && box !== document.body) {
          const ox = getComputedStyle(box).overflowX;
          if ((ox === 'auto' || ox === 'scroll') && box.getBoundingClientRect().right <= vw + 1) {
            scrollsInBox = true;
            break;
          }
          box = box.parentElement;
        }
        const fits = table.getBoundingClientRect().right <= vw + 1;
        if (!stacked && !scrollsInBox && !fits)
          problems.push(`${where}: a table is wider than the screen and neither stacks nor scrolls in its own box`);
      }
      return problems;
    },
    { where, minTap: MIN_TAP },
  );
}

const ROLES: [string, Who][] = [
  ['家長', PARENT_WANG],
  ['家長 (申請審核中)', PARENT_CHEN],
  ['教師', TEACHER_401],
  ['學校管理者', SCHOOL_ADMIN],
];

describe('on a phone (375 × 812)', () => {
  it('the sign-in page fits, with big enough targets', async () => {
    const page = await (await portal.context(PHONE)).newPage();
    await page.goto('/login');
    expect(await phoneProblems(page, '/login')).toEqual([]);
    await screenshot(page, 'phone-login');
  });

  it.each(ROLES)('every page of the menu fits for %s', async (_label, who) => {
    const page = await (await portal.context(PHONE)).newPage();
    await signIn(page, who);
    const pages = await menuPages(page, portal.baseUrl);
    const problems: string[] = [];
    for (const path of pages) {
      await page.goto(path);
      problems.push(...(await phoneProblems(page, `${who.account} ${path}`)));
      if (SHOOT.includes(path))
        await screenshot(page, `phone-${who.account}${path === '/' ? '-home' : path.replace(/[^\w]+/g, '-')}`);
    }
    expect(problems.join('\n')).toBe('');
  });
});
