/**
 * `metrics.jsonl`: one line per (iteration, phase), append-only and written exactly once.
 *
 * Appends are idempotent: a retried activity that already recorded its line records nothing, and a
 * line torn by a crash mid-append is cut off before the next append.
 */
import { appendFileSync, existsSync, fsyncSync, openSync, closeSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from '../workflows/shared.js';

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
  if (!existsSync(path)) return [];
  const lines: MetricsLine[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    try {
      lines.push(JSON.parse(text) as MetricsLine);
    } catch {
      // A torn final line from a crash: ignored here, cut off by the next append.
    }
  }
  return lines;
}

/** Append the line unless one with the same (iteration, phase) is already there. Returns whether it wrote. */
export function appendMetricsOnce(runDir: string, iteration: number, phase: MetricsPhase, metrics: Metrics): boolean {
  const path = metricsFile(runDir);
  if (readMetrics(runDir).some((l) => l.iteration === iteration && l.phase === phase)) return false;
  if (existsSync(path)) {
    const content = readFileSync(path, 'utf8');
    if (content.length > 0 && !content.endsWith('\n')) truncateSync(path, content.lastIndexOf('\n') + 1);
  }
  const line: MetricsLine = { iteration, phase, time: new Date().toISOString(), metrics };
  appendFileSync(path, `${JSON.stringify(line)}\n`);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}
