/** Keyboard only: Tab until the wanted control has focus, arrows to choose in a list, typing, Enter. */
import type { Page } from 'playwright-core';

/** What a screen reader would call the focused element: its label, or its text. */
export async function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return '';
    const labels = (el as HTMLInputElement).labels;
    const label = labels && labels.length > 0 ? labels[0]!.textContent : null;
    return (label ?? el.getAttribute('aria-label') ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
  });
}

/** Press Tab (at most `max` times) until the focused control is called `name` (exact, or matching). */
export async function tabTo(page: Page, name: string | RegExp, max = 80): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await focusedName(page);
    seen.push(now);
    if (typeof name === 'string' ? now === name : name.test(now)) return;
  }
  throw new Error(`Tab never reached "${String(name)}"; focus went through: ${seen.join(' | ')}`);
}

/** On a focused <select>, press ArrowDown/ArrowUp until the chosen option reads `label`. */
export async function arrowToOption(page: Page, label: string): Promise<void> {
  const current = () =>
    page.evaluate(() => {
      const s = document.activeElement as HTMLSelectElement;
      return s.selectedOptions[0]?.textContent?.trim() ?? '';
    });
  const count = await page.evaluate(() => (document.activeElement as HTMLSelectElement).options.length);
  for (const key of ['ArrowDown', 'ArrowUp']) {
    for (let i = 0; i <= count; i++) {
      if ((await current()) === label) return;
      await page.keyboard.press(key);
    }
  }
  if ((await current()) !== label) throw new Error(`no option "${label}" reachable by the arrow keys`);
}
