/**
 * Announcement bodies are plain text. For display they become lines of segments: text, or an http(s) link.
 * Templates print every segment with `<%= %>` (escaped) and put only a URL that parsed as http(s) in href;
 * nothing else (no `javascript:`, no markup) ever becomes active.
 */
export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_RE = /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;
const TRAILING = /[.,;:!?'")\]]+$/;

/** A URL we are willing to link to, normalised by the URL parser; undefined for anything else. */
export function safeHref(candidate: string): string | undefined {
  try {
    const u = new URL(candidate);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    if (!u.hostname) return undefined;
    return u.href;
  } catch {
    return undefined;
  }
}

export function lineSegments(line: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of line.matchAll(URL_RE)) {
    let raw = m[0];
    const trail = TRAILING.exec(raw);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const start = m.index ?? 0;
    const href = safeHref(raw);
    if (!href || raw.length === 0) continue;
    if (start > last) out.push({ kind: 'text', text: line.slice(last, start) });
    out.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < line.length) out.push({ kind: 'text', text: line.slice(last) });
  return out;
}

/** Body → lines → segments. An empty line stays (as an empty array) so paragraphs keep their spacing. */
export function bodyLines(body: string): Segment[][] {
  return body.replace(/\r\n?/g, '\n').split('\n').map(lineSegments);
}
