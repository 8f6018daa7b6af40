/**
 * Which plots a report draws: chosen by what the runs recorded and what carries information, never
 * by task or objective name. A panel is drawn when at least one of its metrics is present in
 * metrics.jsonl and varies; a flat one (a learning rate that never changes, the ±1e-7 loss of a
 * single-epoch PPO update whose ratio is exactly 1) is listed under the plots with its value instead.
 *
 * Metric names follow the team's contract: `reward/mean`, `reward/<verifier>/mean`, `eval/accuracy`,
 * `eval/<verifier>/accuracy`, `eval/pass@k`, `rollout/truncated`, `update/*`, `perf/*`; preference
 * runs record the TRL quartet (rewards/chosen, rejected, margins, accuracies) as
 * `update/chosenReward`, `update/rejectedReward`, `update/margin`, `update/accuracy`, and the
 * held-out pairs as `eval/pairAccuracy`, `eval/margin`.
 */
import type { MetricsLine } from '../store/metrics-log.js';
import { formatMetric, isPercentMetric } from './format.js';

export interface PanelSeries { key: string; label: string }

export interface Panel {
  id: string;
  title: string;
  series: PanelSeries[];
  /** Rates and accuracies: a % axis from 0, so a gain looks its size. */
  percent: boolean;
}

interface PanelSpec { id: string; title: string; series: [string, string][] }

/** In the order they are drawn. Dynamic per-verifier panels are added after `reward/mean`'s. */
const CATALOGUE: PanelSpec[] = [
  { id: 'accuracy', title: 'Held-out accuracy (greedy; iteration 0 = after the warm start)', series: [['eval/accuracy', 'held-out accuracy']] },
  { id: 'pass-at-k', title: 'Held-out pass@k / mean@k', series: [] },
  { id: 'reward', title: 'Mean reward of the rollouts', series: [['reward/mean', 'mean reward']] },
  { id: 'pair-accuracy', title: 'Pairs ranked right (rewards/accuracies)', series: [['update/accuracy', 'training batch'], ['eval/pairAccuracy', 'held-out pairs']] },
  { id: 'pair-rewards', title: 'Implicit rewards (rewards/chosen, rewards/rejected)', series: [['update/chosenReward', 'chosen'], ['update/rejectedReward', 'rejected']] },
  { id: 'pair-margin', title: 'Reward margin (rewards/margins)', series: [['update/margin', 'training batch'], ['eval/margin', 'held-out pairs']] },
  { id: 'pair-logps', title: 'Log-probability of the held-out responses', series: [['eval/chosenLogp', 'chosen'], ['eval/rejectedLogp', 'rejected']] },
  { id: 'length', title: 'Response length (tokens)', series: [['rollout/meanLength', 'rollouts'], ['eval/meanLength', 'held-out (greedy)']] },
  { id: 'truncated', title: 'Cut off by the length limit', series: [['rollout/truncated', 'rollouts'], ['eval/truncated', 'held-out (greedy)']] },
  { id: 'entropy', title: 'Token entropy of the rollouts (nats)', series: [['rollout/entropy', 'entropy']] },
  { id: 'clip', title: 'Clip fraction (tokens whose ratio was clipped)', series: [['update/clipFraction', 'clip fraction']] },
  { id: 'kl', title: 'KL', series: [['update/approxKl', 'to the rollout policy (approx.)'], ['update/kl', 'to the reference']] },
  { id: 'loss', title: 'Loss', series: [['update/loss', 'loss']] },
  { id: 'grad-norm', title: 'Gradient norm (before clipping)', series: [['update/gradNorm', 'gradient norm']] },
  { id: 'lr', title: 'Learning rate', series: [['update/lr', 'learning rate']] },
  { id: 'tokens-per-sec', title: 'Rollout throughput (tokens/s)', series: [['perf/rolloutTokensPerSec', 'tokens/s']] },
];

/** Every metric key any run recorded. */
function keysOf(runs: { lines: MetricsLine[] }[]): Set<string> {
  const keys = new Set<string>();
  for (const r of runs) for (const l of r.lines) for (const k of Object.keys(l.metrics)) keys.add(k);
  return keys;
}

/** Panels made from the keys present: per-verifier rewards and accuracies, pass@k. */
function dynamicSeries(id: string, keys: Set<string>): PanelSeries[] {
  const sorted = [...keys].sort();
  if (id === 'pass-at-k') return sorted.filter((k) => /^eval\/(pass|mean)@\d+$/.test(k)).map((k) => ({ key: k, label: k.slice(5) }));
  if (id === 'reward-by-verifier') {
    return sorted.map((k) => k.match(/^reward\/([^/]+)\/mean$/)).filter((m): m is RegExpMatchArray => m !== null).map((m) => ({ key: m[0], label: m[1] }));
  }
  if (id === 'accuracy-by-verifier') {
    return sorted.map((k) => k.match(/^eval\/([^/]+)\/accuracy$/)).filter((m): m is RegExpMatchArray => m !== null).map((m) => ({ key: m[0], label: m[1] }));
  }
  return [];
}

/** The finite values of `key`, over every run and line. */
export function valuesOf(runs: { lines: MetricsLine[] }[], key: string): number[] {
  const out: number[] = [];
  for (const r of runs) for (const l of r.lines) {
    const v = l.metrics[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/**
 * Why a series carries no information, or null when it does: fewer than two points, a constant,
 * or values that never leave ±1e-6 (numerical zero).
 */
export function flatness(values: number[], key: string): string | null {
  if (values.length < 2) return values.length === 0 ? 'not recorded' : `one point (${formatMetric(key, values[0])})`;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max - min <= 1e-12 * Math.max(1, Math.abs(max))) return `constant at ${formatMetric(key, max)}`;
  if (Math.max(Math.abs(min), Math.abs(max)) < 1e-6) return `within ±${Math.max(Math.abs(min), Math.abs(max)).toExponential(0)} (numerically zero)`;
  return null;
}

export interface PanelChoice { panels: Panel[]; skipped: { title: string; key: string; why: string }[] }

export function choosePanels(runs: { lines: MetricsLine[] }[]): PanelChoice {
  const keys = keysOf(runs);
  const specs: PanelSpec[] = [];
  for (const spec of CATALOGUE) {
    specs.push(spec);
    if (spec.id === 'accuracy') specs.push({ id: 'accuracy-by-verifier', title: 'Held-out accuracy per verifier', series: [] });
    if (spec.id === 'reward') specs.push({ id: 'reward-by-verifier', title: 'Mean reward per verifier', series: [] });
  }
  const panels: Panel[] = [];
  const skipped: PanelChoice['skipped'] = [];
  for (const spec of specs) {
    const candidates = spec.series.length ? spec.series.map(([key, label]) => ({ key, label })) : dynamicSeries(spec.id, keys);
    const present = candidates.filter((s) => keys.has(s.key));
    const flat = present.map((s) => ({ s, why: flatness(valuesOf(runs, s.key), s.key) }));
    // Drawn when one of its series varies; then every series it has goes in (a single held-out point
    // beside the training curve is information). Left out, and listed, when all of them are flat.
    if (!flat.some((f) => f.why === null)) {
      for (const f of flat) skipped.push({ title: spec.title, key: f.s.key, why: f.why! });
      continue;
    }
    panels.push({ id: spec.id, title: spec.title, series: present, percent: present.every((s) => isPercentMetric(s.key)) });
  }
  return { panels, skipped };
}
