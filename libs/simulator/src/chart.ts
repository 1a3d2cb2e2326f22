import type { SimulationResult, TimelinePoint } from './simulate';

/*
 * One SVG chart per workload and lane: backlog, desired and running tasks over
 * time, so an operator sees what a setting does before deploying it. Plain SVG,
 * no script and no dependency, viewable in any browser.
 */

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 48, right: 16, top: 28, bottom: 32 };
const SERIES = [
  { key: 'backlog', label: 'backlog (waiting + running jobs)', colour: '#999999' },
  { key: 'desired', label: 'desired tasks', colour: '#1f77b4' },
  { key: 'running', label: 'running tasks', colour: '#d62728' },
] as const;

export function renderChart(result: SimulationResult, lane: string): string {
  const points = result.timeline[lane] ?? [];
  const end = Math.max(60, points[points.length - 1]?.t ?? 60);
  const jobs = Math.max(1, ...points.map((p) => p.backlog));
  const tasks = Math.max(1, ...points.map((p) => Math.max(p.desired, p.running)));
  const x = (t: number) => PAD.left + (t / end) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number, max: number) => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const line = (key: keyof Omit<TimelinePoint, 't'>, max: number, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p[key], max).toFixed(1)}`).join(' ')}"/>`;
  const title = escape(`${result.workload}: ${lane}`);
  const legend = SERIES.map(
    (s, i) => `<text x="${PAD.left + i * 220}" y="${HEIGHT - 8}" fill="${s.colour}" font-size="11">${escape(s.label)}</text>`,
  ).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">`,
    `<title>${title}</title>`,
    `<text x="${PAD.left}" y="16" font-size="13">${title} (${Math.round(end / 60)} min; jobs up to ${jobs}, tasks up to ${tasks})</text>`,
    `<line x1="${PAD.left}" y1="${HEIGHT - PAD.bottom}" x2="${WIDTH - PAD.right}" y2="${HEIGHT - PAD.bottom}" stroke="#333333"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${HEIGHT - PAD.bottom}" stroke="#333333"/>`,
    line('backlog', jobs, SERIES[0].colour),
    line('desired', tasks, SERIES[1].colour),
    line('running', tasks, SERIES[2].colour),
    legend,
    '</svg>',
    '',
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
