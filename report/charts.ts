/**
 * The report's plots: Vega-Lite specs compiled to Vega and rendered to SVG in Node (`view.toSVG()`,
 * no browser, no network). A run's panel has one line per metric; a sweep's has one line per
 * configuration (the mean over its seeds, with a ±1 std band when there are several), so seeds
 * average out instead of crowding the plot. Accuracy-like panels use a % axis from 0.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Panel } from './panels.js';

const WIDTH = 420;
const HEIGHT = 220;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One run's metrics for the plots: its label, the configuration it belongs to, its lines. */
export interface PlotRun {
  label: string;
  group: string;
  lines: { iteration: number; metrics: Record<string, number> }[];
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A panel's points: one per run, metric and iteration where recorded. */
export function panelValues(panel: Panel, runs: PlotRun[]) {
  return runs.flatMap((r) => panel.series.flatMap((s) => r.lines
    .filter((l) => typeof l.metrics[s.key] === 'number' && Number.isFinite(l.metrics[s.key]))
    .map((l) => ({ iteration: l.iteration, value: l.metrics[s.key], series: s.label, group: r.group, run: r.label }))));
}

export async function panelSvg(panel: Panel, runs: PlotRun[]): Promise<string | null> {
  const values = panelValues(panel, runs);
  if (values.length === 0) return null;
  const groups = new Set(runs.map((r) => r.group));
  const severalRunsAGroup = runs.length > groups.size;
  const manySeries = panel.series.length > 1;
  const x = {
    field: 'iteration', type: 'quantitative' as const, axis: { tickMinStep: 1 },
    title: values.some((v) => v.iteration === 0) ? 'iteration (0 = after the warm start)' : 'iteration',
  };
  const y = {
    field: 'value', type: 'quantitative' as const, title: panel.percent ? 'percent' : panel.series.length === 1 ? panel.series[0].key : 'value',
    scale: { zero: panel.percent },
    ...(panel.percent ? { axis: { format: '.0%' } } : {}),
  };
  // Colour tells configurations apart in a sweep, metrics apart in a run; dashes tell metrics apart in a sweep.
  const byGroup = groups.size > 1;
  const color = byGroup
    ? { field: 'group', type: 'nominal' as const, title: 'configuration', legend: { orient: 'bottom' as const, columns: 1, labelLimit: 400 } }
    : manySeries ? { field: 'series', type: 'nominal' as const, title: null, legend: { orient: 'bottom' as const } } : { value: '#4c78a8' };
  const dash = byGroup && manySeries ? { strokeDash: { field: 'series', type: 'nominal' as const, title: null } } : {};
  const points = values.length / Math.max(1, groups.size * panel.series.length) <= 60;
  const line = {
    mark: { type: 'line' as const, point: points, strokeWidth: 2 },
    encoding: { x, y: { ...y, aggregate: 'mean' as const }, color, ...dash, ...(byGroup ? {} : { detail: { field: 'series', type: 'nominal' as const } }) },
  };
  const band = {
    mark: { type: 'errorband' as const, extent: 'stdev' as const, opacity: 0.2 },
    encoding: { x, y: { field: 'value', type: 'quantitative' as const, title: y.title }, color, detail: { field: 'series', type: 'nominal' as const } },
  };
  return toSvg({
    $schema: SCHEMA,
    title: { text: panel.title, subtitle: severalRunsAGroup ? 'mean over seeds, band ±1 std' : undefined },
    width: WIDTH, height: HEIGHT, data: { values },
    layer: severalRunsAGroup ? [band, line] : [line],
  } as TopLevelSpec);
}

/**
 * The sweep's metric by configuration: a bar at the mean over seeds, a ±1 std error bar, and a dot
 * per seed; bars are labelled by the parameters that set the configuration apart.
 */
export async function comparisonSvg(metric: string, values: { group: string; trial: string; value: number }[], percent: boolean): Promise<string | null> {
  if (values.length === 0) return null;
  const groups = [...new Set(values.map((v) => v.group))];
  const seeds = values.length > groups.length;
  const x = { field: 'group', type: 'nominal' as const, title: null, sort: groups, axis: { labelAngle: groups.some((g) => g.length > 14) ? -25 : 0, labelLimit: 260 } };
  const y = { field: 'value', type: 'quantitative' as const, title: metric, scale: { zero: true }, ...(percent ? { axis: { format: '.0%' } } : {}) };
  const layer: unknown[] = [{ mark: { type: 'bar', opacity: 0.75 }, encoding: { x, y: { ...y, aggregate: 'mean' }, color: { field: 'group', type: 'nominal', legend: null, sort: groups } } }];
  if (seeds) {
    layer.push({ mark: { type: 'errorbar', extent: 'stdev', ticks: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: metric } } });
    layer.push({ mark: { type: 'point', filled: true, color: '#222', size: 30 }, encoding: { x, y } });
  }
  return toSvg({
    $schema: SCHEMA,
    title: { text: `${metric} by configuration`, subtitle: seeds ? 'bar: mean over seeds · line: ±1 std · dots: each seed' : 'one trial each' },
    width: Math.max(WIDTH, 70 * groups.length), height: HEIGHT, data: { values },
    layer,
  } as TopLevelSpec);
}
