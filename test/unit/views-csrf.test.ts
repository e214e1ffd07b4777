/** Every POST form of the portal carries its CSRF field through the one helper, `<%- csrfField() %>`. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { csrfInput } from '../../src/middleware/locals.js';

const VIEWS = path.join(PROJECT_ROOT, 'views');

/** The forms of the development identity provider post to oidc-provider, outside the portal's session. */
const NOT_OURS = /action="\/dev-idp\//;

function viewFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? viewFiles(path.join(dir, e.name)) : e.name.endsWith('.ejs') ? [path.join(dir, e.name)] : [],
  );
}

/** Each `<form method="post" …>…</form>` of a view, with the file and line it starts on. */
function postForms(): { where: string; open: string; body: string }[] {
  const out: { where: string; open: string; body: string }[] = [];
  for (const file of viewFiles(VIEWS)) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/<form\b[^>]*>/gi)) {
      if (!/method=["']?post/i.test(m[0])) continue;
      const end = src.indexOf('</form>', m.index);
      const line = src.slice(0, m.index).split('\n').length;
      out.push({
        where: `${path.relative(PROJECT_ROOT, file)}:${line}`,
        open: m[0],
        body: src.slice(m.index, end < 0 ? undefined : end),
      });
    }
  }
  return out;
}

describe('the CSRF field of the forms', () => {
  it('every POST form of views/ writes it with csrfField(), none by hand', () => {
    const forms = postForms().filter((f) => !NOT_OURS.test(f.open));
    expect(forms.length).toBeGreaterThan(30);
    const missing = forms.filter((f) => !f.body.includes('<%- csrfField() %>')).map((f) => f.where);
    expect(missing).toEqual([]);
    const byHand = viewFiles(VIEWS).filter((f) => /name=["']_csrf["']/.test(readFileSync(f, 'utf8')));
    expect(byHand.map((f) => path.relative(PROJECT_ROOT, f))).toEqual([]);
  });

  it('escapes the token it writes', () => {
    expect(csrfInput('a"b<c>&\'')).toBe('<input type="hidden" name="_csrf" value="a&quot;b&lt;c&gt;&amp;&#39;">');
  });
});
