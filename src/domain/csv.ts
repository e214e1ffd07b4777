/**
 * CSV for people who open it in Excel: UTF-8 with a BOM (so the Chinese reads correctly), CRLF line ends,
 * and a leading = + - @ (or tab, CR) neutralised with a quote so a spreadsheet never runs a cell as a formula.
 */
export type CsvValue = string | number;

/** One cell: quoted when it needs to be (or always, with `quoteAll`). */
export function csvCell(v: CsvValue, quoteAll = false): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return quoteAll || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole file: the BOM, one line a row, CRLF after each. */
export function csvDocument(rows: CsvValue[][], o: { quoteAll?: boolean } = {}): string {
  return `\uFEFF${rows.map((row) => row.map((v) => csvCell(v, o.quoteAll)).join(',')).join('\r\n')}\r\n`;
}
