import { describe, expect, it } from 'vitest';
import { chartSvg, layoutChart } from '../../src/domain/reports/chart.js';
import { reportCsv, rangeProblem, weekStart, type Report } from '../../src/domain/reports/reports.js';

const report: Report = {
  key: 'subscriptions',
  title: 't',
  note: '',
  columns: ['班級', '數量'],
  rows: [
    ['=HYPERLINK("x")', 1],
    ['a,b "c"', 2],
    ['四年一班', -3],
  ],
  footer: ['合計', 0],
  chart: { title: 't', desc: 'd', categories: [], series: [] },
};

describe('report CSV', () => {
  it('starts with a BOM, uses CRLF, quotes and neutralises formulas', () => {
    const csv = reportCsv(report);
    expect(csv.startsWith('\uFEFF班級,數量\r\n')).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""x"")",1\r\n`);
    expect(csv).toContain('"a,b ""c""",2\r\n');
    expect(csv).toContain('四年一班,-3\r\n');
    expect(csv.endsWith('合計,0\r\n')).toBe(true);
  });
});

describe('date helpers of the reports', () => {
  it('weeks start on Monday; ranges are checked', () => {
    expect(weekStart('2026-11-24')).toBe('2026-11-23');
    expect(weekStart('2026-11-23')).toBe('2026-11-23');
    expect(weekStart('2026-11-29')).toBe('2026-11-23');
    expect(rangeProblem({ from: '2026-11-02', to: '2026-11-01' })).toBe('開始日期不可晚於結束日期');
    expect(rangeProblem({ from: '2026-01-01', to: '2026-04-03' })).toBe('日期區間最長 92 天');
    expect(rangeProblem({ from: '2026-01-01', to: '2026-04-02' })).toBeUndefined(); // exactly 92 days
  });
});

describe('chart layout', () => {
  it('scales stacked bars to the largest total (or the fixed maximum) inside the drawing', () => {
    const g = layoutChart({
      title: 'x',
      desc: 'y',
      categories: ['甲', '一個很長很長的班級名稱'],
      series: [
        { name: 'A', values: [2, 1] },
        { name: 'B', values: [2, 0] },
      ],
    });
    expect(g.rows).toHaveLength(2);
    const [first, second] = g.rows;
    expect(first!.bars).toHaveLength(2);
    expect(second!.bars).toHaveLength(1); // a zero draws nothing
    expect(first!.total).toBe('4');
    const end = first!.bars[1]!.x + first!.bars[1]!.width;
    expect(end).toBeLessThanOrEqual(g.width);
    expect(second!.bars[0]!.width).toBeCloseTo(first!.bars[0]!.width / 2, 0);
    expect(second!.label).toBe('一個很長很…');
    const pct = layoutChart({
      title: 'p',
      desc: 'd',
      categories: ['a'],
      series: [{ name: '涵蓋率', values: [50] }],
      max: 100,
      unit: '%',
    });
    expect(pct.rows[0]!.total).toBe('50%');
  });
});

describe('chart SVG markup', () => {
  it('draws every bar with its tip and escapes text (a class name is user data)', () => {
    const g = layoutChart({
      title: 'A & B',
      desc: '<d>',
      categories: ['四年"一"班', "x'y"],
      series: [
        { name: '生效', values: [2, 0] },
        { name: '<s>', values: [1, 3] },
      ],
    });
    const svg = chartSvg(g, 'chart-x');
    expect((svg.match(/<rect /g) ?? []).length).toBe(2 + 3); // two legend swatches, three bars (a 0 draws none)
    expect(svg).toContain('<title id="chart-x-title">A &amp; B</title>');
    expect(svg).toContain('<desc id="chart-x-desc">&lt;d&gt;</desc>');
    expect(svg).toContain('<title>四年&#34;一&#34;班 &lt;s&gt;：1</title>');
    expect(svg).toContain('x&#39;y');
    expect(svg).not.toMatch(/<s>|"一"/);
  });
});
