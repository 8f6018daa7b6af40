/**
 * Verifier names → specs, and the synchronous verifiers that the worker pool runs.
 * The built-in names exist once, here; `opts.specs` in a batch can add or override names.
 */
import type { Verdict, VerifierSpec, VerifyCase } from './types.js';
import { verifyMath } from './math/verify.js';
import { combine, verifyFormat, verifyLength } from './shaping.js';

export const BUILTIN_SPECS = {
  math: { kind: 'math' },
  code: { kind: 'code' },
  'think-answer': { kind: 'format', pattern: 'think-answer' },
  boxed: { kind: 'format', pattern: 'boxed' },
  /**
   * Exact-answer integer tasks (the built-in arithmetic task): the completion must be the integer and
   * nothing else, equal to the gold. The plain `math` verifier would accept trailing junk ("12+") via
   * its last-number rule, which rewards sloppy completions that greedy evaluation counts as wrong.
   */
  'exact-integer': {
    kind: 'compose', mode: 'gate',
    parts: [{ spec: { kind: 'format', pattern: 'integer' } }, { spec: { kind: 'math' }, weight: 1 }],
  },
  /** The usual R1-style shaping: format gate, then answer correctness. */
  'math-think-answer': {
    kind: 'compose', mode: 'gate',
    parts: [{ spec: { kind: 'format', pattern: 'think-answer' } }, { spec: { kind: 'math' }, weight: 1 }],
  },
} as const satisfies Record<string, VerifierSpec>;

export type BuiltinVerifierName = keyof typeof BUILTIN_SPECS;

export class UnknownVerifierError extends Error {
  override name = 'UnknownVerifierError';
  constructor(readonly verifier: string, readonly known: string[]) {
    super(`unknown verifier ${JSON.stringify(verifier)}; known: ${known.join(', ')}`);
  }
}

export function resolveSpec(name: string, extra: Record<string, VerifierSpec> = {}): VerifierSpec {
  if (Object.hasOwn(extra, name)) return extra[name];
  if (Object.hasOwn(BUILTIN_SPECS, name)) return BUILTIN_SPECS[name as BuiltinVerifierName];
  throw new UnknownVerifierError(name, [...Object.keys(extra), ...Object.keys(BUILTIN_SPECS)]);
}

/**
 * Specs that run synchronously on a pool worker: everything but code execution, including a
 * composition whose parts are all synchronous (one pool task per case instead of one per part).
 */
export type SyncSpec =
  | Extract<VerifierSpec, { kind: 'math' | 'format' | 'length' }>
  | { kind: 'compose'; mode: 'sum' | 'min' | 'gate'; parts: Array<{ spec: SyncSpec; weight?: number }> };

export function isSyncSpec(spec: VerifierSpec): spec is SyncSpec {
  if (spec.kind === 'compose') return spec.parts.every((p) => isSyncSpec(p.spec));
  return spec.kind === 'math' || spec.kind === 'format' || spec.kind === 'length';
}

export function runSync(spec: SyncSpec, c: Pick<VerifyCase, 'completion' | 'gold' | 'truncated'>): Verdict {
  switch (spec.kind) {
    case 'math': return verifyMath(c.completion, c.gold, spec, { truncated: c.truncated });
    case 'format': return verifyFormat(c.completion, spec.pattern, spec.flags);
    case 'length': return verifyLength(c.completion, spec);
    case 'compose': {
      // A failed gate decides the verdict alone: the parts behind it are not run (nor needed).
      if (spec.mode === 'gate' && spec.parts.length > 0) {
        const gate = runSync(spec.parts[0].spec, c);
        if (gate.status !== 'correct') return combine(spec, [gate]);
        return combine(spec, [gate, ...spec.parts.slice(1).map((p) => runSync(p.spec, c))]);
      }
      return combine(spec, spec.parts.map((p) => runSync(p.spec, c)));
    }
  }
}
