/** The inputs of every view are valid HTML where the W3C checker looks: a placeholder only where HTML allows one. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

const VIEWS = path.join(PROJECT_ROOT, 'views');

function viewFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? viewFiles(path.join(dir, e.name)) : e.name.endsWith('.ejs') ? [path.join(dir, e.name)] : [],
  );
}

/** The input types that take a placeholder (HTML's "placeholder" attribute applies to these only). */
const TAKES_PLACEHOLDER = new Set(['text', 'search', 'url', 'tel', 'email', 'password', 'number']);

describe('the inputs of the views', () => {
  it('carry a placeholder only on the types that take one (none on type="month", "date", …)', () => {
    const inputs = viewFiles(VIEWS).flatMap((file) => {
      const src = readFileSync(file, 'utf8');
      return [...src.matchAll(/<input\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi)].map((m) => ({
        where: `${path.relative(PROJECT_ROOT, file)}:${src.slice(0, m.index).split('\n').length}`,
        tag: m[0],
      }));
    });
    expect(inputs.length).toBeGreaterThan(20);
    const wrong = inputs
      .filter((i) => /\splaceholder=/i.test(i.tag))
      .filter((i) => !TAKES_PLACEHOLDER.has((/\stype="([^"]*)"/i.exec(i.tag)?.[1] ?? 'text').toLowerCase()))
      .map((i) => i.where);
    expect(wrong).toEqual([]);
    // The month of 出勤統計 (reports/parent) is one of the inputs looked at.
    expect(inputs.some((i) => i.where.startsWith('views/reports/parent.ejs') && /type="month"/.test(i.tag))).toBe(true);
  });
});
