/**
 * Cases that may be verified on the calling thread, without the worker pool.
 *
 * The pool exists for its hard kill: a symbolic check or a hostile regex can take unbounded time.
 * Many cases cannot: a plain integer against a plain integer takes the math verifier's fast path
 * (microseconds), and the built-in format templates below are linear regexes. Sending those through
 * the pool costs a message round trip per chunk (about 30 ms for the demo's 1024 completions) for
 * no protection, so `verifyInline` runs them here and returns null for anything else, which then
 * goes to the pool as before. The verdict is exactly what the pool would return: both call `runSync`.
 */
import { runSync, type SyncSpec } from './registry.js';
import { combine } from './shaping.js';
import type { Verdict, VerifierSpec } from './types.js';

/** Templates from FORMAT_TEMPLATES whose regexes are linear in the input (no nested quantifiers). */
const LINEAR_TEMPLATES = new Set(['integer', 'hash', 'boxed']);
const PLAIN_INTEGER = /^\s*-?\d{1,15}\s*$/;

/** Leaves whose `runSync` is certain to finish in time linear in the case's length. */
function boundedLeaf(spec: VerifierSpec, completion: string, gold: string): spec is SyncSpec {
  switch (spec.kind) {
    case 'format': return LINEAR_TEMPLATES.has(spec.pattern) && !spec.flags;
    case 'length': return true;
    // Both plain integers: extraction finds the integer and the fast path compares two numbers.
    case 'math': return PLAIN_INTEGER.test(completion) && PLAIN_INTEGER.test(gold) && !spec.extract;
    default: return false;
  }
}

/**
 * The verdict of a case that is safe to verify on this thread, else null (use the pool). Walks the
 * spec as `runSync` does, gate short-circuit included, so the verdict is the one `runSync` returns:
 * a gate that fails decides alone (only the gate had to be bounded); otherwise every part must be.
 */
export function verifyInline(spec: VerifierSpec, completion: string, gold: string, truncated?: boolean): Verdict | null {
  if (spec.kind !== 'compose') return boundedLeaf(spec, completion, gold) ? runSync(spec, { completion, gold, truncated }) : null;
  const parts: Verdict[] = [];
  for (const [k, part] of spec.parts.entries()) {
    const verdict = verifyInline(part.spec, completion, gold, truncated);
    if (!verdict) return null;
    parts.push(verdict);
    if (k === 0 && spec.mode === 'gate' && verdict.status !== 'correct') break;
  }
  return combine(spec, parts);
}
