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

/**
 * Combine part verdicts per a compose spec; `parts[k]` is the verdict of `spec.parts[k]`. Plain loops:
 * this runs once per case on the compute host's scoring path, where the array helpers' closures
 * made it the verifier's costliest step.
 */
export function combine(spec: Extract<VerifierSpec, { kind: 'compose' }>, parts: Verdict[]): Verdict {
  let ms = 0;
  let bad = -1;
  let allCorrect = true;
  for (let k = 0; k < parts.length; k++) {
    const status = parts[k].status;
    ms += parts[k].ms;
    if (bad < 0 && (status === 'error' || status === 'timeout' || status === 'skipped')) bad = k;
    if (status !== 'correct') allCorrect = false;
  }
  if (spec.mode === 'gate') {
    const gate = parts[0];
    if (gate && gate.status !== 'correct' && gate.status !== 'incorrect') return { ...gate, score: 0, reason: `gate: ${gate.reason}`, ms };
    if (gate && gate.status === 'incorrect') return { status: 'incorrect', score: 0, reason: `gate failed: ${gate.reason}`, ms };
  }
  if (bad >= 0) return { status: parts[bad].status, score: 0, reason: `part ${bad + 1}: ${parts[bad].reason}`, ms };
  // A gate's first part only gates; the score comes from the parts behind it.
  let score = spec.mode === 'min' ? Infinity : 0;
  for (let k = spec.mode === 'gate' ? 1 : 0; k < parts.length; k++) {
    score = spec.mode === 'min' ? Math.min(score, parts[k].score) : score + (spec.parts[k].weight ?? 1) * parts[k].score;
  }
  let reason = '';
  for (let k = 0; k < parts.length; k++) reason += `${k === 0 ? '' : ' '}${k + 1}:${parts[k].status}`;
  return { status: allCorrect ? 'correct' : 'incorrect', score, reason: `${spec.mode}(${reason})`, ms };
}
