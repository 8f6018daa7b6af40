/**
 * The report's plots: Vega-Lite specs compiled to Vega and rendered to SVG in Node (`view.toSVG()`,
 * no browser, no network). One line per run in every curve; a bar per trial in the comparison.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ReportRun } from './collect.js';

/** The curves every report draws: metric key in metrics.jsonl, the phase it is recorded in, a title. */
export const CURVES = [
  { key: 'reward/mean', phase: 'train', title: 'Mean reward' },
  { key: 'eval/accuracy', phase: 'eval', title: 'Held-out accuracy' },
  { key: 'update/loss', phase: 'train', title: 'Loss' },
  { key: 'update/approxKl', phase: 'train', title: 'KL (approx., to the rollout policy)' },
  { key: 'rollout/entropy', phase: 'train', title: 'Token entropy' },
  { key: 'perf/rolloutTokensPerSec', phase: 'train', title: 'Rollout tokens/s' },
] as const;

const WIDTH = 420;
const HEIGHT = 220;

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A line chart of one metric over iterations, one series per run; null when no run recorded it. */
export async function curveSvg(runs: ReportRun[], curve: (typeof CURVES)[number]): Promise<string | null> {
  const values = runs.flatMap((r) => r.lines
    .filter((l) => l.phase === curve.phase && Number.isFinite(l.metrics[curve.key]))
    .map((l) => ({ iteration: l.iteration, value: l.metrics[curve.key], run: r.label })));
  if (values.length === 0) return null;
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: curve.title, width: WIDTH, height: HEIGHT, data: { values },
    mark: { type: 'line', point: values.length <= 60, strokeWidth: 2 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: curve.key, scale: { zero: false } },
      color: { field: 'run', type: 'nominal', title: runs.length > 1 ? 'trial' : 'run', legend: runs.length > 1 ? {} : null },
    },
  });
}

/** Trials side by side on the sweep's metric. */
export async function comparisonSvg(runs: ReportRun[], metric: string, values: { label: string; value: number }[]): Promise<string | null> {
  if (values.length === 0) return null;
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Trials by ${metric}`, width: Math.max(WIDTH, 28 * values.length), height: HEIGHT, data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'label', type: 'nominal', title: 'trial', sort: runs.map((r) => r.label) },
      y: { field: 'value', type: 'quantitative', title: metric },
      color: { field: 'label', type: 'nominal', legend: null },
    },
  });
}
