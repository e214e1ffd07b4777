/**
 * A horizontal stacked bar chart as plain geometry: the view draws it as SVG with presentation attributes
 * only (no style attribute, no script: the CSP allows neither). Horizontal bars keep labels readable on a
 * 375px phone; the viewBox scales the drawing to the screen.
 */
export interface ChartSeries {
  name: string;
  values: number[];
}

export interface ChartSpec {
  title: string;
  desc: string;
  categories: string[];
  series: ChartSeries[];
  /** A fixed maximum (100 for percentages); otherwise the largest total. */
  max?: number;
  unit?: string;
}

export interface ChartGeometry {
  width: number;
  height: number;
  title: string;
  desc: string;
  legend: { x: number; y: number; fill: string; name: string; textX: number; textY: number }[];
  rows: {
    label: string;
    labelX: number;
    labelY: number;
    bars: { x: number; y: number; width: number; height: number; fill: string; tip: string }[];
    total: string;
    totalX: number;
    totalY: number;
  }[];
  axisX: number;
  axisY1: number;
  axisY2: number;
}

/** Colour-blind-safe palette with enough contrast on white. */
export const PALETTE = ['#0b4f8a', '#e69f00', '#a4161a', '#6b7785', '#17612e', '#7a4b9a', '#56b4e9'];

const WIDTH = 360;
const LABEL_W = 96;
const VALUE_W = 54;
const ROW_H = 28;
const BAR_H = 18;
const LEGEND_ROW = 24;

function fmt(n: number, unit: string | undefined): string {
  const s = Number.isInteger(n) ? String(n) : n.toFixed(1);
  return unit ? `${s}${unit}` : s;
}

export function layoutChart(spec: ChartSpec): ChartGeometry {
  const legendPerRow = 3;
  const legendRows = Math.ceil(spec.series.length / legendPerRow);
  const legend = spec.series.map((s, i) => {
    const col = i % legendPerRow;
    const row = Math.floor(i / legendPerRow);
    const x = 4 + col * (WIDTH / legendPerRow);
    const y = 4 + row * LEGEND_ROW;
    return { x, y, fill: PALETTE[i % PALETTE.length] ?? '#000', name: s.name, textX: x + 20, textY: y + 13 };
  });
  const top = 8 + legendRows * LEGEND_ROW;
  const totals = spec.categories.map((_, ci) => spec.series.reduce((sum, s) => sum + (s.values[ci] ?? 0), 0));
  const max = Math.max(spec.max ?? 0, ...totals, 1);
  const area = WIDTH - LABEL_W - VALUE_W;
  const rows = spec.categories.map((label, ci) => {
    const y = top + ci * ROW_H;
    let x = LABEL_W;
    const bars = spec.series.flatMap((s, si) => {
      const v = s.values[ci] ?? 0;
      if (v <= 0) return [];
      const w = (v / max) * area;
      const bar = {
        x: round(x),
        y: y + (ROW_H - BAR_H) / 2,
        width: round(Math.max(w, 1)),
        height: BAR_H,
        fill: PALETTE[si % PALETTE.length] ?? '#000',
        tip: `${label} ${s.name}：${fmt(v, spec.unit)}`,
      };
      x += w;
      return [bar];
    });
    return {
      label: [...label].length > 6 ? `${[...label].slice(0, 5).join('')}…` : label,
      labelX: LABEL_W - 4,
      labelY: y + ROW_H / 2 + 5,
      bars,
      total: fmt(totals[ci] ?? 0, spec.unit),
      totalX: round(x + 4),
      totalY: y + ROW_H / 2 + 5,
    };
  });
  const height = top + Math.max(1, spec.categories.length) * ROW_H + 8;
  return {
    width: WIDTH,
    height,
    title: spec.title,
    desc: spec.desc,
    legend,
    rows,
    axisX: LABEL_W,
    axisY1: top,
    axisY2: height - 8,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The five characters HTML and SVG text and attributes need escaped (as EJS's `<%= %>` escapes them). */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const esc = (v: string | number): string =>
  typeof v === 'number' ? String(v) : v.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/**
 * The chart as SVG markup (views/reports/_chart.ejs puts it in its figure). Built here in one pass rather than by
 * the template: on the city's 67 classes 各班訂購狀態 alone draws ~450 bars, and the template's per-attribute
 * escaping and appends were a fifth of the page's CPU. Only text is escaped; numbers are written as they are.
 */
export function chartSvg(g: ChartGeometry, chartId: string): string {
  const id = esc(chartId);
  const out: string[] = [
    `<svg viewBox="0 0 ${g.width} ${g.height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" xmlns="http://www.w3.org/2000/svg" font-size="14" font-family="sans-serif">`,
    `<title id="${id}-title">${esc(g.title)}</title>`,
    `<desc id="${id}-desc">${esc(g.desc)}</desc>`,
  ];
  for (const l of g.legend)
    out.push(
      `<rect x="${l.x}" y="${l.y}" width="14" height="14" fill="${esc(l.fill)}"/>`,
      `<text x="${l.textX}" y="${l.textY}" fill="#1a1a1a">${esc(l.name)}</text>`,
    );
  out.push(
    `<line x1="${g.axisX}" y1="${g.axisY1}" x2="${g.axisX}" y2="${g.axisY2}" stroke="#6b7785" stroke-width="1"/>`,
  );
  for (const r of g.rows) {
    out.push(`<text x="${r.labelX}" y="${r.labelY}" text-anchor="end" fill="#1a1a1a">${esc(r.label)}</text>`);
    for (const b of r.bars)
      out.push(
        `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="${esc(b.fill)}"><title>${esc(b.tip)}</title></rect>`,
      );
    out.push(`<text x="${r.totalX}" y="${r.totalY}" fill="#1a1a1a">${esc(r.total)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
