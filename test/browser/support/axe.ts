/** axe-core in the page. The CSP forbids inline scripts, so axe is evaluated through the DevTools protocol. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string; html: string }[];
}

/** Run axe (WCAG 2.x A + AA, best practices) on the page as it is; returns every violation. */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary, html: n.html.slice(0, 200) })),
    }));
  });
}

/** The violations that fail a page: serious or critical, plus colour contrast (AA) whatever axe rates it. */
export function blocking(v: AxeViolation[]): AxeViolation[] {
  return v.filter((x) => x.impact === 'serious' || x.impact === 'critical' || x.id === 'color-contrast');
}

export function describeViolations(where: string, v: AxeViolation[]): string {
  return v
    .map(
      (x) =>
        `${where}: [${x.impact}] ${x.id} — ${x.help}\n${x.nodes.map((n) => `    ${n.target.join(' ')}  ${n.html}`).join('\n')}`,
    )
    .join('\n');
}
