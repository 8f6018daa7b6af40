/** The inline fast path: bounded cases skip the worker pool and get exactly the pool's verdict. */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BUILTIN_SPECS, VerifierPool, verifyBatch } from '../../rewards/index.js';
import { verifyInline } from '../../rewards/inline.js';
import { runSync, type SyncSpec } from '../../rewards/registry.js';
import type { VerifierSpec } from '../../rewards/types.js';

const exactInteger = BUILTIN_SPECS['exact-integer'] as VerifierSpec;
const math = BUILTIN_SPECS.math as VerifierSpec;

describe('verifyInline', () => {
  it.each([
    ['12', '12'], ['13', '12'], ['-5', '-5'], ['12+', '12'], ['', '7'], ['1 2', '12'], ['x'.repeat(10_000), '3'],
  ])('exact-integer %j vs %j: inline, and equal to the synchronous verdict', (completion, gold) => {
    const inline = verifyInline(exactInteger, completion, gold);
    expect(inline).not.toBeNull();
    const sync = runSync(exactInteger as SyncSpec, { completion, gold });
    expect({ ...inline, ms: 0 }).toEqual({ ...sync, ms: 0 });
  });

  it.each([
    ['symbolic gold', math, '\\frac{1}{2}', '0.5'],
    ['symbolic completion', math, 'x^2', '4'],
    ['an integer that passes the gate against a symbolic gold', exactInteger, '4', '2^2'],
    ['a user regex (may backtrack)', { kind: 'format', pattern: '(a+)+$' } as VerifierSpec, 'aaaa!', ''],
    ['the think-answer template (lazy quantifiers)', BUILTIN_SPECS['think-answer'] as VerifierSpec, '<think>', ''],
    ['code', { kind: 'code' } as VerifierSpec, 'print(1)', ''],
  ])('leaves %s to the pool', (_what, spec, completion, gold) => {
    expect(verifyInline(spec, completion, gold)).toBeNull();
  });
});

describe('verifyBatch', () => {
  const pool = new VerifierPool({ size: 1 });
  afterAll(() => pool.close());

  it('verifies a batch of plain integers without sending one case to the pool', async () => {
    const cases = Array.from({ length: 500 }, (_, k) => ({ id: `c${k}`, verifier: 'exact-integer', completion: String(k % 7), gold: String(k % 5) }));
    const sent = vi.spyOn(pool, 'run');
    const out = await verifyBatch(cases, { pool });
    expect(out.map((r) => r.status)).toEqual(cases.map((c) => (c.completion === c.gold ? 'correct' : 'incorrect')));
    expect(sent).not.toHaveBeenCalled();
    // A symbolic case in the same batch still goes through the pool.
    const [sym] = await verifyBatch([{ id: 's', verifier: 'math', completion: 'so \\boxed{\\frac{2}{4}}', gold: '\\frac{1}{2}' }], { pool });
    expect(sym.status).toBe('correct');
    expect(sent).toHaveBeenCalledTimes(1);
  });
});
