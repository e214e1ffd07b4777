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
