/** metrics.jsonl: one line per (iteration, phase), and a line torn by a crash is cut before the next append. */
import { appendFileSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appendMetricsOnce, metricsFile, readMetrics } from '../../store/metrics-log.js';
import { tempStateDir } from '../support/harness.js';

describe('metrics log', () => {
  it('writes each (iteration, phase) once and recovers from a torn last line', () => {
    const dir = tempStateDir('metrics');
    expect(appendMetricsOnce(dir, 1, 'train', { 'reward/mean': 0.5 })).toBe(true);
    expect(appendMetricsOnce(dir, 1, 'train', { 'reward/mean': 0.9 })).toBe(false);
    expect(appendMetricsOnce(dir, 1, 'eval', { 'eval/accuracy': 0.3 })).toBe(true);

    appendFileSync(metricsFile(dir), '{"iteration":2,"phase":"tr'); // killed mid-append
    expect(readMetrics(dir).map((l) => [l.iteration, l.phase])).toEqual([[1, 'train'], [1, 'eval']]);
    expect(appendMetricsOnce(dir, 2, 'train', { 'reward/mean': 0.7 })).toBe(true);

    const text = readFileSync(metricsFile(dir), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n').map((l) => JSON.parse(l).iteration)).toEqual([1, 1, 2]);
    expect(readMetrics(dir).find((l) => l.iteration === 1 && l.phase === 'train')?.metrics['reward/mean']).toBe(0.5);
  });
});
