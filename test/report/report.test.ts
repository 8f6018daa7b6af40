/**
 * Reports: panels chosen by what the metrics carry (unit, on recorded-looking lines), and
 * `creditflow report` on a finished sweep with two seeds per configuration: one self-contained HTML
 * file whose plots have one line per configuration (mean over its seeds, with a band), whose bars
 * are labelled by parameters, and whose tables match the trials' metrics files.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choosePanels, formatMetric, formatNumber, reportSummary, TABLE_COLUMNS } from '../../report/index.js';
import { panelSvg } from '../../report/charts.js';
import type { MetricsLine } from '../../store/metrics-log.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { startSweep } from '../../sweeps/start.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { PROJECT, tempStateDir, testAddress, testClient, testTarget, uniqueId } from '../support/harness.js';
import { tinyYaml } from '../sweeps/fixtures.js';

/** The part of the page inside `<figure data-chart="id">`. */
const figure = (html: string, id: string) => {
  const start = html.indexOf(`data-chart="${id}"`);
  expect(start, `no chart ${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start));
};
const count = (text: string, needle: string) => text.split(needle).length - 1;
const line = (iteration: number, phase: MetricsLine['phase'], metrics: Record<string, number>): MetricsLine => ({ iteration, phase, time: '2026-01-01T00:00:00Z', metrics });

describe('report panels', () => {
  it('draws what carries information and says what it left out', () => {
    const lines = [
      line(0, 'warm-start', { 'eval/accuracy': 0.25, 'sft/loss': 1.2 }),
      ...[1, 2, 3, 4].map((i) => line(i, 'train', {
        'reward/mean': 0.2 + 0.05 * i, 'reward/math/mean': 0.1 * i, 'reward/format/mean': 1 - 0.1 * i,
        'update/loss': (i % 2 ? 1 : -1) * 1e-7, 'update/lr': 6e-4, 'update/clipFraction': 0.01 * i, 'update/gradNorm': 1 / i,
        'rollout/meanLength': 3 + i, 'rollout/truncated': 0.1 / i,
      })),
      line(2, 'eval', { 'eval/accuracy': 0.3 }),
      line(4, 'eval', { 'eval/accuracy': 0.41 }),
    ];
    const { panels, skipped } = choosePanels([{ lines }]);
    const ids = panels.map((p) => p.id);
    expect(ids).toEqual(['accuracy', 'reward', 'reward-by-verifier', 'length', 'truncated', 'clip', 'grad-norm']);
    expect(panels.find((p) => p.id === 'reward-by-verifier')!.series.map((s) => s.label)).toEqual(['format', 'math']);
    expect(panels.find((p) => p.id === 'accuracy')!.percent).toBe(true);
    expect(skipped).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: 'update/loss', why: 'within ±1e-7 (numerically zero)' }),
      expect.objectContaining({ key: 'update/lr', why: 'constant at 6.00e-4' }),
    ]));
  });

  it('puts the warm-start point on the accuracy curve, on a % axis from 0', async () => {
    const lines = [line(0, 'warm-start', { 'eval/accuracy': 0.317 }), line(20, 'eval', { 'eval/accuracy': 0.367 }), line(60, 'eval', { 'eval/accuracy': 0.407 })];
    const accuracy = choosePanels([{ lines }]).panels.find((p) => p.id === 'accuracy')!;
    const svg = (await panelSvg(accuracy, [{ label: 'r', group: 'r', lines }]))!;
    // Axis labels: from 0% (not zoomed to the points), and the x axis starts at the warm start.
    expect(svg).toContain('>0%<');
    expect(svg).toContain('iteration (0 = after the warm start)');
    expect(count(svg, '<path')).toBeGreaterThan(0);
  });

  it('shows the preference panels TRL users know when their metrics are there', () => {
    const lines = [
      line(0, 'warm-start', { 'eval/accuracy': 0.3 }),
      ...[1, 2, 3].map((i) => line(i, 'train', { 'update/chosenReward': 0.1 * i, 'update/rejectedReward': -0.1 * i, 'update/margin': 0.2 * i, 'update/accuracy': 0.5 + 0.1 * i })),
      line(3, 'eval', { 'eval/accuracy': 0.36, 'eval/pairAccuracy': 0.8, 'eval/margin': 0.5, 'eval/chosenLogp': -3, 'eval/rejectedLogp': -5 }),
    ];
    const ids = choosePanels([{ lines }]).panels.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['accuracy', 'pair-accuracy', 'pair-rewards', 'pair-margin']));
    expect(reportSummary(lines)).toMatchObject({ 'eval/warmStartAccuracy': 0.3, 'eval/accuracy': 0.36, 'eval/pairAccuracy': 0.8, iterations: 3 });
  });

  it('formats numbers for people', () => {
    expect(formatNumber(80)).toBe('80');
    expect(formatNumber(12345)).toBe('12,345');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(6e-4)).toBe('6.00e-4');
    expect(formatMetric('eval/accuracy', 0.317)).toBe('31.7%');
    expect(formatMetric('eval/pass@8', 0.5)).toBe('50.0%');
    expect(formatMetric('iterations', 80)).toBe('80');
  });
});

describe('creditflow report on a sweep', () => {
  let client: Client;
  let worker: RunningWorker;
  const home = tempStateDir('report');
  beforeAll(async () => {
    client = await testClient('report');
    worker = await startWorker({ target: testTarget('report'), stateDir: home, backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('groups trials by configuration (mean ± std over seeds) and matches the metrics files', async () => {
    const yaml = `${tinyYaml().replace('experiment: test-tiny', 'experiment: it-report').replace('iterations: 4', 'iterations: 2')}
sweep:
  grid: { optimizer.lr: [0.003, 0.0003] }
  seeds: [1, 2]
  metric: eval/accuracy
  concurrency: 2
  pollSeconds: 1
`;
    const sweepId = uniqueId('rep');
    const handle = await startSweep(client, parseSweepYaml(yaml, 'report.yaml'), sweepId);
    const result = await handle.result();
    expect(result.leaderboard.counts.completed).toBe(4);

    const out = join(tempStateDir('report-out'), 'report.html');
    // Asynchronously: the worker answering the CLI's queries lives in this process.
    await promisify(execFile)(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'report', sweepId, '--out', out, '--address', testAddress(), '--namespace', 'report'],
      { encoding: 'utf8', env: { ...process.env, CREDITFLOW_HOME: home } });
    const html = readFileSync(out, 'utf8');

    // Self-contained: no scripts, nothing fetched from elsewhere.
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    // Every trial links to its token-credit page (creditflow inspect), written beside the report.
    expect(html).toContain(`href="${sweepId}-t001-inspect.html"`);
    // One line per configuration (two seeds each, averaged, with a ±1 std band), labelled by its parameters.
    const reward = figure(html, 'reward');
    expect(count(reward, 'mark-line role-mark')).toBe(2);
    expect(reward).toContain('mean over seeds, band ±1 std');
    for (const label of ['lr=0.003', 'lr=0.0003']) {
      expect(reward).toContain(`>${label}<`);
      expect(figure(html, 'comparison')).toContain(`>${label}<`);
    }
    // Held-out accuracy: drawn from the warm start on when it varies; else listed as flat, with its value.
    const accuracies = result.leaderboard.trials.flatMap((t) => readMetrics(runDir(t.id, home)))
      .filter((l) => Number.isFinite(l.metrics['eval/accuracy'])).map((l) => l.metrics['eval/accuracy']);
    if (new Set(accuracies).size > 1) expect(figure(html, 'accuracy')).toContain('iteration (0 = after the warm start)');
    else expect(html).toContain(`eval/accuracy (constant at ${formatMetric('eval/accuracy', accuracies[0])})`);

    // Per trial: every value as computed from that trial's metrics.jsonl.
    const summaries = new Map<string, Record<string, number>>();
    for (let k = 1; k <= 4; k++) {
      const id = `${sweepId}-t00${k}`;
      const row = html.slice(html.indexOf(`<tr data-run="${id}">`), html.indexOf('</tr>', html.indexOf(`<tr data-run="${id}">`)));
      const lines = readMetrics(runDir(id, home));
      expect(lines.filter((l) => l.phase === 'train').map((l) => l.iteration)).toEqual([1, 2]);
      const expected = reportSummary(lines);
      summaries.set(id, expected);
      expect(expected['eval/warmStartAccuracy']).toBe(lines.find((l) => l.phase === 'warm-start')!.metrics['eval/accuracy']);
      for (const [key] of TABLE_COLUMNS) {
        if (expected[key] === undefined) continue;
        const m = row.match(new RegExp(`data-key="${key}" data-value="([^"]+)"`));
        expect(m, `${id} ${key}`).not.toBeNull();
        expect(Number(m![1])).toBe(expected[key]);
      }
      expect(row).toMatch(/data-key="iterations" data-value="2">2</);
    }
    // Per configuration: the mean and sample std of its two seeds' accuracy.
    const byLr = new Map<string, number[]>();
    for (const t of result.leaderboard.trials) byLr.set(String(t.params['optimizer.lr']), [...(byLr.get(String(t.params['optimizer.lr'])) ?? []), summaries.get(t.id)!['eval/accuracy']]);
    for (const [lr, xs] of byLr) {
      const row = html.slice(html.indexOf(`<tr data-group="lr=${lr}">`), html.indexOf('</tr>', html.indexOf(`<tr data-group="lr=${lr}">`)));
      const mean = (xs[0] + xs[1]) / 2;
      const std = Math.abs(xs[0] - xs[1]) / Math.SQRT2;
      const m = row.match(/data-key="eval\/accuracy" data-mean="([^"]+)" data-std="([^"]+)"/);
      expect(m, `configuration lr=${lr}`).not.toBeNull();
      expect(Number(m![1])).toBeCloseTo(mean, 12);
      expect(Number(m![2])).toBeCloseTo(std, 12);
    }
  }, 240_000);
});
