/** Reading the portal's HTML in tests: a page as text, the attendance grid, the class day view, a report's table. */

/** A page's text with the tags removed and the white space folded. */
export const textOf = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

/** The rows of the first attendance grid of a page: [label, 到校時間, 離校時間]. */
export function gridRows(html: string): string[][] {
  const out: string[][] = [];
  const re = /<tr>\s*<th scope="row">([^<]*)<\/th>\s*<td[^>]*>([^<]*)<\/td>\s*<td[^>]*>([^<]*)<\/td>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push([m[1]!, m[2]!, m[3]!]);
  return out;
}

/** The rows of the staff's class day view (出勤管理): [姓名, 到校時間, 離校時間]. */
export function dayRows(html: string): string[][] {
  const out: string[][] = [];
  const re =
    /<td data-label="姓名">([^<]*)<\/td>\s*<td data-label="到校時間"[^>]*>([^<]*)<\/td>\s*<td data-label="離校時間"[^>]*>([^<]*)<\/td>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push([m[1]!, m[2]!, m[3]!]);
  return out;
}

/** The day's detail of one student on the class day view: the text of each record, tags removed. */
export function detailOf(html: string, name: string): string[] {
  const at = html.indexOf(`<span class="visually-hidden">（${name}）</span></summary>`);
  if (at < 0) return [];
  const list = html.slice(at, html.indexOf('</ul>', at));
  return [...list.matchAll(/<li class="record[^"]*">([\s\S]*?)<\/li>/g)].map((m) =>
    m[1]!.replace(/<[^>]+>/g, '').trim(),
  );
}

/** The cells of a report's table (統計報表, `data-report="key"`), body and footer rows, as the page shows them. */
export function reportRows(html: string, key: string): string[][] {
  const m = new RegExp(`<table[^>]*data-report="${key}"[^>]*>([\\s\\S]*?)</table>`).exec(html);
  if (!m?.[1]) throw new Error(`no table ${key}`);
  const body = m[1].replace(/<thead>[\s\S]*?<\/thead>/, '');
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...(r[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => (c[1] ?? '').trim()),
  );
}
