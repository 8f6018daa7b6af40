/**
 * The report page: one self-contained HTML file (inline SVG and CSS, no scripts, no links out), so
 * it can be mailed to a colleague or opened years later. A headline (accuracy after the warm start
 * and at the end), for a sweep a table by configuration (mean ± std over seeds), the table of runs,
 * the plots, and the panels left out because they were flat.
 */
import { paramsLabel } from '../workflows/sweep-plan.js';
import { comparisonSvg, panelSvg, type PlotRun } from './charts.js';
import type { ReportData, ReportRun } from './collect.js';
import { formatMetric, formatNumber, formatPercent, isPercentMetric } from './format.js';
import { choosePanels } from './panels.js';
import { inspectFileName } from './inspect-html.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Columns of the results table (shown when any run has them): metric key in a run's summary, and its header. */
export const TABLE_COLUMNS = [
  ['iterations', 'iterations'], ['eval/warmStartAccuracy', 'accuracy after warm start'], ['eval/accuracy', 'accuracy (last)'],
  ['eval/bestAccuracy', 'accuracy (best)'], ['eval/pairAccuracy', 'held-out pairs right (last)'], ['reward/mean', 'reward (last)'],
  ['update/loss', 'loss (last)'], ['perf/rolloutTokensPerSec', 'tokens/s (last)'],
] as const;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1), 0 for one value. */
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

function cell(run: ReportRun, key: string): string {
  const v = run.summary[key];
  return `<td class="num" data-key="${escape(key)}"${v === undefined ? '' : ` data-value="${v}"`}>${formatMetric(key, v)}</td>`;
}

function columnsOf(data: ReportData) {
  return TABLE_COLUMNS.filter(([k]) => data.runs.some((r) => r.summary[k] !== undefined));
}

function resultsTable(data: ReportData): string {
  const sweep = data.kind === 'sweep';
  const metric = data.leaderboard?.metric;
  const columns = columnsOf(data);
  const rows = [...data.runs].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.label.localeCompare(b.label));
  const head = [...(sweep ? ['#', 'trial', 'params'] : ['run']), 'status', ...(metric ? [`${metric} (ranked)`] : []), ...columns.map(([, h]) => h)];
  const body = rows.map((r) => {
    const ranked = metric ? data.leaderboard!.trials.find((t) => t.id === r.id)?.metric ?? undefined : undefined;
    return `<tr data-run="${escape(r.id)}">${sweep ? `<td>${r.rank ?? ''}</td><td>${escape(r.label)}</td><td>${escape(paramsLabel(r.params))}</td>` : `<td>${escape(r.id)}</td>`}`
      + `<td>${escape(r.status)}</td>${metric ? `<td class="num" data-key="ranked" data-value="${ranked ?? ''}">${formatMetric(metric, ranked)}</td>` : ''}`
      + `${columns.map(([k]) => cell(r, k)).join('')}</tr>`;
  });
  return `<table class="results"><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

/** A sweep's configurations: every metric as mean ± std over the seeds that ran it. */
export function configurationRows(data: ReportData): { group: string; runs: ReportRun[]; stats: Record<string, { mean: number; std: number; n: number }> }[] {
  const groups = new Map<string, ReportRun[]>();
  for (const r of data.runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  const metric = data.leaderboard?.metric;
  const keys = [...(metric ? [metric] : []), ...columnsOf(data).map(([k]) => k)];
  return [...groups].map(([group, runs]) => {
    const stats: Record<string, { mean: number; std: number; n: number }> = {};
    for (const k of keys) {
      const xs = runs.map((r) => r.summary[k]).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (xs.length) stats[k] = { mean: mean(xs), std: std(xs), n: xs.length };
    }
    return { group, runs, stats };
  });
}

function meanStd(key: string, s: { mean: number; std: number; n: number } | undefined): string {
  if (!s) return '–';
  if (s.n < 2) return formatMetric(key, s.mean);
  return isPercentMetric(key) ? `${formatPercent(s.mean)} ± ${(100 * s.std).toFixed(1)}` : `${formatNumber(s.mean)} ± ${formatNumber(s.std)}`;
}

function configurationTable(data: ReportData): string {
  const rows = configurationRows(data);
  const metric = data.leaderboard!.metric;
  const keys = [metric, ...columnsOf(data).map(([k]) => k).filter((k) => k !== metric && k !== 'iterations')];
  const sorted = [...rows].sort((a, b) => {
    const sa = a.stats[metric]?.mean ?? -Infinity;
    const sb = b.stats[metric]?.mean ?? -Infinity;
    return data.leaderboard!.direction === 'max' ? sb - sa : sa - sb;
  });
  const head = ['configuration', 'seeds', ...keys.map((k) => (k === metric ? `${k} (ranked)` : TABLE_COLUMNS.find(([c]) => c === k)?.[1] ?? k))];
  const body = sorted.map((g) => `<tr data-group="${escape(g.group)}"><td>${escape(g.group)}</td><td class="num">${g.runs.length}</td>`
    + keys.map((k) => `<td class="num" data-key="${escape(k)}" data-mean="${g.stats[k]?.mean ?? ''}" data-std="${g.stats[k]?.std ?? ''}">${meanStd(k, g.stats[k])}</td>`).join('') + '</tr>');
  return `<table class="results groups"><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

/** `held-out accuracy 25.3% after the warm start → 41.0% at iteration 80 (best 42.3%)`. */
function headline(data: ReportData): string {
  if (data.kind !== 'run') return '';
  const s = data.runs[0]?.summary ?? {};
  const parts: string[] = [];
  if (s['eval/accuracy'] !== undefined) {
    parts.push(`held-out accuracy ${formatPercent(s['eval/warmStartAccuracy'])} after the warm start → ${formatPercent(s['eval/accuracy'])}`
      + ` at iteration ${formatNumber(s.iterations)} (best ${formatPercent(s['eval/bestAccuracy'])})`);
  }
  if (s['eval/pairAccuracy'] !== undefined) parts.push(`held-out pairs ranked right: ${formatPercent(s['eval/pairAccuracy'])}`);
  return parts.length ? `<p class="headline">${escape(parts.join(' · '))}</p>` : '';
}

export async function renderReport(data: ReportData, generatedAt = new Date()): Promise<string> {
  const figures: string[] = [];
  const sweep = data.kind === 'sweep' && data.leaderboard;
  const multiSeed = new Set(data.runs.map((r) => r.group)).size < data.runs.length;
  if (sweep) {
    const values = data.leaderboard!.trials.filter((t) => t.metric !== null)
      .map((t) => ({ group: data.runs.find((r) => r.id === t.id)?.group ?? t.id, trial: t.id.slice(data.id.length + 1), value: t.metric! }));
    const svg = await comparisonSvg(data.leaderboard!.metric, values, isPercentMetric(data.leaderboard!.metric));
    if (svg) figures.push(`<figure class="wide" data-chart="comparison">${svg}</figure>`);
  }
  const { panels, skipped } = choosePanels(data.runs);
  const plotRuns: PlotRun[] = data.runs.map((r) => ({ label: r.label, group: sweep ? r.group : r.label, lines: r.lines }));
  for (const panel of panels) {
    const svg = await panelSvg(panel, plotRuns);
    if (svg) figures.push(`<figure data-chart="${escape(panel.id)}" data-series="${escape(panel.series.map((s) => s.key).join(' '))}">${svg}</figure>`);
  }
  const board = data.leaderboard;
  const subtitle = board
    ? `sweep of ${board.total} trials in ${new Set(data.runs.map((r) => r.group)).size} configurations · ranked by ${board.metric} (${board.direction}) · ${board.concurrency} at a time · ${board.status}`
    : `run · ${data.runs[0]?.status ?? ''}`;
  const notDrawn = skipped.filter((s) => s.why !== 'not recorded');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>creditflow report · ${escape(data.id)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.4rem;margin:0}.sub{color:#666;margin:.2rem 0 1rem}
.headline{font-size:1.1rem;margin:.5rem 0 1.5rem}
table.results{border-collapse:collapse;margin:1rem 0 2rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0;border:1px solid #eee;padding:.5rem}.notes{color:#666;font-size:13px}footer{color:#888;margin-top:2rem;font-size:12px}
</style></head>
<body>
<h1>${escape(data.experiment || data.id)} · ${escape(data.id)}</h1>
<p class="sub">${escape(subtitle)} · workflow ${escape(data.workflowStatus.toLowerCase())}</p>
${headline(data)}
${sweep && multiSeed ? `<h2>By configuration (mean ± std over seeds)</h2>\n${configurationTable(data)}` : ''}
<h2>${sweep ? 'Trials' : 'Result'}</h2>
${resultsTable(data)}
<h2>Token credit</h2>
<p class="inspect">Which tokens each method credited, response by response: ${data.runs.map((r) => `<a class="inspect" href="${escape(inspectFileName(r.id))}">${escape(r.label)}</a>`).join(' · ')} (pages written beside this report by <code>creditflow inspect &lt;run-id&gt;</code>).</p>
<h2>Plots</h2>
<div class="charts">
${figures.join('\n')}
</div>
${notDrawn.length ? `<p class="notes">Not drawn, as they carry no information here: ${notDrawn.map((s) => `${escape(s.key)} (${escape(s.why)})`).join('; ')}.</p>` : ''}
<footer>generated by creditflow at ${generatedAt.toISOString()} from ${data.runs.length} run folder${data.runs.length === 1 ? '' : 's'} (metrics.jsonl)</footer>
</body></html>
`;
}
