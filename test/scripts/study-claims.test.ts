/**
 * The study's verdicts from paired differences (scripts/study/claims.ts): one standard error is the
 * bar, '≥' claims hold unless reversed, '<' claims need a clear drop; the table and plot carry the
 * spread and every seed.
 * npx vitest run test/scripts/study-claims.test.ts
 */
import { describe, expect, it } from 'vitest';
import { claimRows, markdownTable, spread, svgPlot, verdict } from '../../scripts/study/claims.js';

describe('study claims', () => {
  it('judges a paired difference against one standard error', () => {
    expect(spread([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(verdict('>', [0.1, 0.12, 0.08])).toBe('holds');
    expect(verdict('>', [0.1, -0.1, 0.02])).toBe('within noise');
    expect(verdict('>', [-0.1, -0.12, -0.08])).toBe('reversed');
    expect(verdict('≥', [0.1, -0.1, 0.02])).toBe('holds');
    expect(verdict('≥', [-0.1, -0.12, -0.08])).toBe('reversed');
    expect(verdict('<', [-0.1, -0.12, -0.08])).toBe('holds');
    expect(verdict('<', [0.1, -0.1, 0.02])).toBe('within noise');
    expect(verdict('<', [])).toBe('no data');
  });

  it('pairs arms by seed, and writes every seed and the spread into the table and the plot', () => {
    const results = { dpo: { 1: 0.5, 2: 0.6, 3: 0.7 }, 'critical-token-dpo': { 1: 0.55, 2: 0.66, 3: 0.72 } };
    const row = claimRows(results).find((r) => r.claim.id === 'cdpo')!;
    expect(row.diffs.map((d) => d.seed)).toEqual([1, 2, 3]);
    expect(row.diff.mean).toBeCloseTo((0.05 + 0.06 + 0.02) / 3, 10);
    expect(row.verdict).toBe('holds');
    expect(claimRows(results).find((r) => r.claim.id === 'spo-tree')!.verdict).toBe('no data');
    const table = markdownTable(claimRows(results));
    expect(table).toContain('| critical-token DPO > DPO | critical-token-dpo: 64.3 ± 8.6 | dpo: 60.0 ± 10.0 | +4.3 ± 2.1 | s1 +5.0, s2 +6.0, s3 +2.0 | holds |');
    const svg = svgPlot(results, 'title');
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg).toContain('critical-token-dpo');
  });
});
