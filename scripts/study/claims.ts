/**
 * The study's claims and how a result is judged (scripts/study/run.ts runs the arms). Pure: numbers
 * in, table rows, markdown, JSON and SVG out.
 *
 * Each claim compares a method with its baseline on the same seeds (same warm start, data and
 * budget per seed), so the comparison is paired: d_s = method_s − baseline_s. With n seeds,
 * se = std(d) / √n, and the verdict is
 *   '>' claims: holds when mean(d) > se; reversed when mean(d) < −se; else within noise
 *   '≥' claims: holds unless reversed (mean(d) < −se)
 *   '<' claims: holds when mean(d) < −se; reversed when mean(d) > se; else within noise
 * One standard error is a deliberately weak bar (3 seeds cannot support a significance test); the
 * table gives the spread so a reader can judge.
 */

export type Relation = '>' | '≥' | '<';

export interface Claim {
  id: string;
  text: string;
  method: string;
  baseline: string;
  relation: Relation;
  /** The paper the claim comes from. */
  source: string;
}

export const CLAIMS: Claim[] = [
  { id: 'forking-top', text: 'forking top-20% ≥ full-gradient DAPO', method: 'forking-top20', baseline: 'dapo', relation: '≥', source: 'Wang et al. 2025 (arXiv 2506.01939)' },
  { id: 'forking-bottom', text: 'forking bottom-80% < full-gradient DAPO', method: 'forking-bottom80', baseline: 'dapo', relation: '<', source: 'Wang et al. 2025, ablation' },
  { id: 'spo-chain', text: 'SPO-chain > GRPO', method: 'spo-chain', baseline: 'grpo', relation: '>', source: 'Guo et al. 2025 (arXiv 2505.23564) §4.1' },
  { id: 'spo-tree', text: 'SPO-tree > GRPO at equal samples', method: 'spo-tree', baseline: 'grpo', relation: '>', source: 'Guo et al. 2025 §4.2' },
  { id: 'cdpo', text: 'critical-token DPO > DPO', method: 'critical-token-dpo', baseline: 'dpo', relation: '>', source: 'Lin et al. 2024 (arXiv 2411.19943)' },
  { id: 'sparse-po', text: 'SparsePO ≥ DPO', method: 'sparse-po', baseline: 'dpo', relation: '≥', source: 'Christopoulou et al. 2024 (arXiv 2410.05102)' },
  { id: 't-reg', text: 'T-REG ≥ DPO', method: 't-reg', baseline: 'dpo', relation: '≥', source: 'Zhou et al. 2024 (arXiv 2412.02685)' },
];

export interface Spread {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  std: number;
  n: number;
}

export function spread(xs: readonly number[]): Spread {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

export type Verdict = 'holds' | 'within noise' | 'reversed' | 'no data';

export function verdict(relation: Relation, diffs: readonly number[]): Verdict {
  if (diffs.length === 0) return 'no data';
  const { mean, std, n } = spread(diffs);
  const se = std / Math.sqrt(n);
  if (relation === '<') return mean < -se ? 'holds' : mean > se ? 'reversed' : 'within noise';
  if (mean < -se) return 'reversed';
  if (relation === '≥') return 'holds';
  return mean > se ? 'holds' : 'within noise';
}

export interface ClaimRow {
  claim: Claim;
  method: Spread;
  baseline: Spread;
  /** Paired differences by seed (seeds both arms finished). */
  diffs: { seed: number; diff: number }[];
  diff: Spread;
  verdict: Verdict;
}

/** `results[arm][seed]` = the arm's final held-out accuracy on that seed. */
export function claimRows(results: Record<string, Record<number, number>>): ClaimRow[] {
  return CLAIMS.map((claim) => {
    const m = results[claim.method] ?? {};
    const b = results[claim.baseline] ?? {};
    const seeds = Object.keys(m).map(Number).filter((s) => s in b).sort((x, y) => x - y);
    const diffs = seeds.map((seed) => ({ seed, diff: m[seed] - b[seed] }));
    return {
      claim, method: spread(Object.values(m)), baseline: spread(Object.values(b)), diffs,
      diff: spread(diffs.map((d) => d.diff)), verdict: verdict(claim.relation, diffs.map((d) => d.diff)),
    };
  });
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '–');
const pm = (s: Spread) => `${pct(s.mean)} ± ${pct(s.std)}`;
const signed = (x: number) => (x >= 0 ? `+${pct(x)}` : pct(x));

export function markdownTable(rows: ClaimRow[]): string {
  const lines = [
    '| claim | method acc. % (mean ± std) | baseline acc. % | paired diff. (pp, mean ± std) | per seed | verdict |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.claim.text} | ${r.claim.method}: ${pm(r.method)} | ${r.claim.baseline}: ${pm(r.baseline)} | ${signed(r.diff.mean)} ± ${pct(r.diff.std)} | ${r.diffs.map((d) => `s${d.seed} ${signed(d.diff)}`).join(', ')} | ${r.verdict} |`);
  }
  return lines.join('\n');
}

/**
 * One row per arm: its seeds as dots, mean ± std as a bar, on a shared accuracy axis.
 * Self-contained SVG (no script, no external font).
 */
export function svgPlot(results: Record<string, Record<number, number>>, title: string): string {
  const arms = Object.keys(results);
  const all = arms.flatMap((a) => Object.values(results[a]));
  const lo = Math.max(0, Math.floor(Math.min(...all, 1) * 20) / 20 - 0.05);
  const hi = Math.min(1, Math.ceil(Math.max(...all, 0) * 20) / 20 + 0.05);
  const W = 640;
  const rowH = 28;
  const left = 150;
  const right = 30;
  const top = 40;
  const H = top + arms.length * rowH + 40;
  const x = (v: number) => left + ((v - lo) / Math.max(hi - lo, 1e-9)) * (W - left - right);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top - 8}" y2="${H - 30}" stroke="#ddd"/>`, `<text x="${x(v)}" y="${H - 14}" text-anchor="middle">${pct(v)}%</text>`);
  }
  arms.forEach((arm, i) => {
    const y = top + i * rowH + rowH / 2;
    const vals = Object.values(results[arm]);
    const s = spread(vals);
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${escapeXml(arm)}</text>`);
    if (Number.isFinite(s.mean)) {
      parts.push(`<line x1="${x(Math.max(lo, s.mean - s.std))}" x2="${x(Math.min(hi, s.mean + s.std))}" y1="${y}" y2="${y}" stroke="#1f77b4" stroke-width="3"/>`);
      parts.push(`<rect x="${x(s.mean) - 2}" y="${y - 8}" width="4" height="16" fill="#1f77b4"><title>${escapeXml(arm)}: ${pm(s)}%</title></rect>`);
    }
    for (const v of vals) parts.push(`<circle cx="${x(v)}" cy="${y}" r="3.5" fill="none" stroke="#d62728"/>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
