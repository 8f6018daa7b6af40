/**
 * Format and shaping rewards, and the weighted composition of verdicts.
 *
 * - `format`: a regular expression (or a named template) that the whole completion must match.
 * - `length`: character / word limits; over the limit by up to `softMargin` characters the score
 *   decays linearly to 0 (a shaping signal), beyond it the verdict is `incorrect`.
 * - `combine`: sum / min / gate over part verdicts. A part that errored, timed out or was skipped
 *   makes the whole verdict carry that status and the part's reason: nothing is silently a 0.
 */
import type { Verdict, VerifierSpec } from './types.js';

/** Named format templates, so that configs need not repeat fragile regexes. */
export const FORMAT_TEMPLATES = {
  'think-answer': /^\s*<think>[\s\S]*?<\/think>\s*<answer>[\s\S]*?<\/answer>\s*$/,
  boxed: /\\boxed\{/,
  hash: /####\s*\S/,
  /** The whole completion is one integer, nothing else (exact-answer tasks). */
  integer: /^-?\d+$/,
} as const satisfies Record<string, RegExp>;

const MAX_FORMAT_INPUT = 200_000;

function v(status: Verdict['status'], score: number, reason: string, t0: number): Verdict {
  return { status, score, reason, ms: performance.now() - t0 };
}

export function verifyFormat(completion: string, pattern: string, flags = ''): Verdict {
  const t0 = performance.now();
  let re: RegExp;
  if (pattern in FORMAT_TEMPLATES) re = FORMAT_TEMPLATES[pattern as keyof typeof FORMAT_TEMPLATES];
  else {
    try { re = new RegExp(pattern, flags); } catch (e) { return v('error', 0, `bad format pattern: ${(e as Error).message}`, t0); }
  }
  // Regex cost can be super-linear in the input; the worker-pool timeout is the hard bound, this the cheap one.
  if (completion.length > MAX_FORMAT_INPUT) return v('incorrect', 0, `completion longer than ${MAX_FORMAT_INPUT} characters`, t0);
  return re.test(completion) ? v('correct', 1, `matches ${pattern}`, t0) : v('incorrect', 0, `does not match ${pattern}`, t0);
}

export function verifyLength(completion: string, o: { maxChars?: number; minChars?: number; maxWords?: number; softMargin?: number }): Verdict {
  const t0 = performance.now();
  const n = completion.length;
  if (o.minChars !== undefined && n < o.minChars) return v('incorrect', 0, `${n} characters < min ${o.minChars}`, t0);
  if (o.maxWords !== undefined) {
    const words = completion.split(/\s+/).filter(Boolean).length;
    if (words > o.maxWords) return v('incorrect', 0, `${words} words > max ${o.maxWords}`, t0);
  }
  if (o.maxChars !== undefined && n > o.maxChars) {
    const over = n - o.maxChars;
    const margin = o.softMargin ?? 0;
    if (over < margin) return v('incorrect', 1 - over / margin, `${over} characters over max ${o.maxChars} (soft margin ${margin})`, t0);
    return v('incorrect', 0, `${n} characters > max ${o.maxChars}`, t0);
  }
  return v('correct', 1, 'within length limits', t0);
}

/** Combine part verdicts per a compose spec; `parts[k]` is the verdict of `spec.parts[k]`. */
export function combine(spec: Extract<VerifierSpec, { kind: 'compose' }>, parts: Verdict[]): Verdict {
  const ms = parts.reduce((s, p) => s + p.ms, 0);
  const w = (k: number) => spec.parts[k].weight ?? 1;
  const bad = parts.findIndex((p) => p.status === 'error' || p.status === 'timeout' || p.status === 'skipped');
  if (spec.mode === 'gate') {
    const gate = parts[0];
    if (gate && gate.status !== 'correct' && gate.status !== 'incorrect') return { ...gate, score: 0, reason: `gate: ${gate.reason}`, ms };
    if (gate && gate.status === 'incorrect') return { status: 'incorrect', score: 0, reason: `gate failed: ${gate.reason}`, ms };
  }
  if (bad >= 0) return { status: parts[bad].status, score: 0, reason: `part ${bad + 1}: ${parts[bad].reason}`, ms };
  const scored = spec.mode === 'gate' ? parts.slice(1).map((p, k) => ({ p, k: k + 1 })) : parts.map((p, k) => ({ p, k }));
  const score = spec.mode === 'min'
    ? Math.min(...scored.map(({ p }) => p.score))
    : scored.reduce((s, { p, k }) => s + w(k) * p.score, 0);
  const allCorrect = parts.every((p) => p.status === 'correct');
  const reason = parts.map((p, k) => `${k + 1}:${p.status}`).join(' ');
  return { status: allCorrect ? 'correct' : 'incorrect', score, reason: `${spec.mode}(${reason})`, ms };
}
