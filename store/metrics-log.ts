/**
 * `metrics.jsonl`: one line per (iteration, phase), append-only and written exactly once.
 *
 * Appends are idempotent: a retried activity that already recorded its line records nothing, and a
 * line torn by a crash mid-append is cut off before the next append.
 */
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from '../common/metrics.js';
import { fsyncPath } from './atomic-dir.js';

export type MetricsPhase = 'warm-start' | 'train' | 'eval';

export interface MetricsLine {
  iteration: number;
  phase: MetricsPhase;
  time: string;
  metrics: Metrics;
}

export const metricsFile = (runDir: string) => join(runDir, 'metrics.jsonl');

export function readMetrics(runDir: string): MetricsLine[] {
  const path = metricsFile(runDir);
  return existsSync(path) ? parseMetrics(readFileSync(path, 'utf8')) : [];
}

function parseMetrics(text: string): MetricsLine[] {
  const lines: MetricsLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line) as MetricsLine);
    } catch {
      // A torn final line from a crash: ignored here, cut off by the next append.
    }
  }
  return lines;
}

/** Append the line unless one with the same (iteration, phase) is already there. Returns whether it wrote. */
export function appendMetricsOnce(runDir: string, iteration: number, phase: MetricsPhase, metrics: Metrics): boolean {
  const path = metricsFile(runDir);
  const content = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (parseMetrics(content).some((l) => l.iteration === iteration && l.phase === phase)) return false;
  if (content.length > 0 && !content.endsWith('\n')) truncateSync(path, content.lastIndexOf('\n') + 1);
  const line: MetricsLine = { iteration, phase, time: new Date().toISOString(), metrics };
  appendFileSync(path, `${JSON.stringify(line)}\n`);
  fsyncPath(path);
  return true;
}
