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
import type { Verdict, VerifierSpec } from './types.js';

/** Templates from FORMAT_TEMPLATES whose regexes are linear in the input (no nested quantifiers). */
const LINEAR_TEMPLATES = new Set(['integer', 'hash', 'boxed']);
const PLAIN_INTEGER = /^\s*-?\d{1,15}\s*$/;

/** True when `runSync(spec)` on this case is certain to finish in time linear in its length. */
function bounded(spec: VerifierSpec, completion: string, gold: string): spec is SyncSpec {
  switch (spec.kind) {
    case 'format': return LINEAR_TEMPLATES.has(spec.pattern) && !spec.flags;
    case 'length': return true;
    // Both plain integers: extraction finds the integer and the fast path compares two numbers.
    case 'math': return PLAIN_INTEGER.test(completion) && PLAIN_INTEGER.test(gold) && !spec.extract;
    case 'code': return false;
    case 'compose':
      // A gate stops at a failed first part (runSync short-circuits), so only the gate itself must be
      // bounded when it fails; when it passes, the rest must be too.
      if (spec.mode === 'gate' && spec.parts.length > 0) {
        const [gate, ...rest] = spec.parts;
        if (!bounded(gate.spec, completion, gold)) return false;
        return runSync(gate.spec, { completion, gold }).status !== 'correct' || rest.every((p) => bounded(p.spec, completion, gold));
      }
      return spec.parts.every((p) => bounded(p.spec, completion, gold));
  }
}

/** The verdict of a case that is safe to verify on this thread, else null (use the pool). */
export function verifyInline(spec: VerifierSpec, completion: string, gold: string): Verdict | null {
  return bounded(spec, completion, gold) ? runSync(spec, { completion, gold }) : null;
}
