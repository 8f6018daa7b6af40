/**
 * `creditflow report` on a finished sweep: one self-contained HTML file whose SVG curves have one
 * series per trial, and whose results table matches the trials' metrics files.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURVES, TABLE_COLUMNS } from '../../report/index.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { summarizeRunMetrics } from '../../sweeps/run-metrics.js';
import { startSweep } from '../../sweeps/start.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { PROJECT, tempStateDir, testAddress, testClient, testTarget, uniqueId } from '../support/harness.js';
import { tinyYaml } from '../sweeps/fixtures.js';

/** The part of the page inside `<figure data-chart="key">`. */
const figure = (html: string, key: string) => {
  const start = html.indexOf(`<figure data-chart="${key}"`) >= 0 ? html.indexOf(`<figure data-chart="${key}"`) : html.indexOf(`data-chart="${key}"`);
  expect(start, `no chart ${key}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start));
};
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('creditflow report', () => {
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

  it('writes an HTML report with one series per trial and the table of the metrics files', async () => {
    const yaml = `${tinyYaml().replace('experiment: test-tiny', 'experiment: it-report').replace('iterations: 4', 'iterations: 2')}
sweep:
  grid: { optimizer.lr: [0.003, 0.001, 0.0003] }
  metric: eval/accuracy
  concurrency: 3
  pollSeconds: 1
`;
    const sweepId = uniqueId('rep');
    const handle = await startSweep(client, parseSweepYaml(yaml, 'report.yaml'), sweepId);
    const result = await handle.result();
    expect(result.leaderboard.counts.completed).toBe(3);

    const out = join(tempStateDir('report-out'), 'report.html');
    // Asynchronously: the worker answering the CLI's queries lives in this process.
    await promisify(execFile)(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'report', sweepId, '--out', out, '--address', testAddress(), '--namespace', 'report'],
      { encoding: 'utf8', env: { ...process.env, CREDITFLOW_HOME: home } });
    const html = readFileSync(out, 'utf8');

    // Self-contained: no scripts, nothing fetched from elsewhere.
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    // Every curve has one line per trial; the comparison one bar per trial.
    for (const curve of CURVES) expect(count(figure(html, curve.key), 'mark-line role-mark'), curve.key).toBe(3);
    expect(count(figure(html, 'comparison'), '<path')).toBeGreaterThanOrEqual(3);
    for (const k of ['t001', 't002', 't003']) expect(figure(html, 'reward/mean')).toContain(`>${k}<`);

    // The table: one row per trial, every value as computed from that trial's metrics.jsonl.
    for (let k = 1; k <= 3; k++) {
      const id = `${sweepId}-t00${k}`;
      const row = html.slice(html.indexOf(`<tr data-run="${id}">`), html.indexOf('</tr>', html.indexOf(`<tr data-run="${id}">`)));
      expect(row).toContain(`${id.slice(sweepId.length + 1)}`);
      const lines = readMetrics(runDir(id, home));
      expect(lines.filter((l) => l.phase === 'train').map((l) => l.iteration)).toEqual([1, 2]);
      const expected = summarizeRunMetrics(lines);
      const lastTrain = lines.filter((l) => l.phase === 'train').at(-1)!.metrics;
      expect(expected['reward/mean']).toBe(lastTrain['reward/mean']);
      expect(expected['eval/accuracy']).toBe(lines.filter((l) => l.phase === 'eval').at(-1)!.metrics['eval/accuracy']);
      for (const [key] of TABLE_COLUMNS) {
        const m = row.match(new RegExp(`data-key="${key}" data-value="([^"]+)"`));
        expect(m, `${id} ${key}`).not.toBeNull();
        expect(Number(m![1])).toBe(expected[key]);
      }
      const ranked = row.match(/data-key="ranked" data-value="([^"]+)"/);
      expect(Number(ranked![1])).toBe(expected['eval/accuracy']);
    }
  }, 180_000);
});
