// Run: npx vitest run test/rewards/batch.test.ts
import { describe, it, expect, afterAll } from 'vitest';
import { verifyBatch, VerifierPool, shutdownVerifiers, type VerifyCase } from '../../rewards/index.js';

const pool = new VerifierPool({ size: 2 });
afterAll(async () => { await pool.close(); await shutdownVerifiers(); });

// Catastrophic backtracking: a synchronous hang that no in-thread timer can interrupt.
const REDOS = { kind: 'format', pattern: '^(a+)+$' } as const;
const hung = (id: string): VerifyCase => ({ id, verifier: 'redos', completion: `${'a'.repeat(40)}b`, gold: '' });
const math = (id: string, completion: string, gold: string): VerifyCase => ({ id, verifier: 'math', completion, gold });

describe('verifyBatch on the worker pool', () => {
  it('passes truncation to the math verifier, on the pool and inline alike', async () => {
    const cut = (id: string, completion: string, truncated: boolean): VerifyCase => ({ id, verifier: 'math', completion, gold: '7', truncated });
    const r = await verifyBatch([
      cut('span', 'so far $3 + 4 = 7$ and then', true), // pool: a math span, cut off → incorrect
      cut('span-whole', 'so far $3 + 4 = 7$.', false), // the same span, complete → correct
      cut('boxed', 'so $\\boxed{7}$ and then we chec', true), // a marker written before the cut counts
      cut('int', '7', true), // inline fast path: a bare integer, cut off, may have gone on to 75
      cut('int-whole', '7', false),
    ], { pool });
    expect(r.map((x) => x.status)).toEqual(['incorrect', 'correct', 'correct', 'incorrect', 'correct']);
    expect(r[0].reason).toMatch(/truncated/);
  });

  it('returns results in input order with ids', async () => {
    const cases = Array.from({ length: 200 }, (_, k) => math(`c${k}`, `${k}+1=${k + 1}`, String(k + (k % 3 === 0 ? 2 : 1))));
    const r = await verifyBatch(cases, { pool });
    expect(r.map((x) => x.id)).toEqual(cases.map((c) => c.id));
    expect(r.map((x) => x.status)).toEqual(cases.map((_, k) => (k % 3 === 0 ? 'incorrect' : 'correct')));
  });

  it('a hung check costs only its own timeout; the cases behind it still succeed', async () => {
    const started = pool.started;
    const others = Array.from({ length: 20 }, (_, k) => math(`m${k}`, `\\boxed{\\frac{${k}}{2}}`, String(k / 2)));
    const t0 = performance.now();
    const r = await verifyBatch([hung('h1'), ...others], { pool, timeoutMs: 800, specs: { redos: REDOS } });
    const wall = performance.now() - t0;
    expect(r[0]).toMatchObject({ id: 'h1', status: 'timeout', ms: 800 });
    expect(r[0].reason).toMatch(/terminated/);
    expect(r.slice(1).every((x) => x.status === 'correct')).toBe(true);
    // One timeout plus generous slack for a loaded 2-core machine; a serial wait (or a hang) is far more.
    expect(wall).toBeLessThan(800 + 4000);
    // The killed worker was replaced: the spare takes its slot at once, and a new spare is started as
    // soon as every slot is ready again, which can be a moment after the batch returns.
    await expect.poll(() => pool.started, { timeout: 10_000 }).toBeGreaterThan(started);
  });

  it('several hung checks at once: each times out, the rest still come back right', async () => {
    const r = await verifyBatch([hung('h1'), math('m1', '\\boxed{\\frac12}', '0.5'), hung('h2'), math('m2', '2+2=4', '4')], {
      pool, timeoutMs: 800, specs: { redos: REDOS },
    });
    expect(r.map((x) => x.status)).toEqual(['timeout', 'correct', 'timeout', 'correct']);
    const after = await verifyBatch([math('m3', '\\boxed{x^2-1}', '(x-1)(x+1)')], { pool });
    expect(after[0].status).toBe('correct');
  });

  it('pathological math ends as error with a reason', async () => {
    const r = await verifyBatch([
      math('tower', '\\boxed{9^9^9^9}', '1'),
      math('fact', '\\boxed{(10^{6})!}', '1'),
      math('ok', '\\boxed{1/2004!}', '\\frac{1}{2006!}'),
    ], { pool, timeoutMs: 2000 });
    expect(r[0].status).toBe('error');
    expect(r[0].reason).toMatch(/overflow/);
    expect(r[1].status).toBe('error');
    expect(r[1].reason).toMatch(/too large/);
    expect(r[2].status).toBe('incorrect');
  });

  it('an unknown verifier and an unusable gold say why', async () => {
    const r = await verifyBatch([{ id: 'u', verifier: 'nope', completion: '', gold: '' }, math('g', '\\boxed{1}', '\\frac{')], { pool });
    expect(r[0]).toMatchObject({ status: 'error', score: 0 });
    expect(r[0].reason).toMatch(/unknown verifier "nope"/);
    expect(r[1].status).toBe('skipped');
  });

  it('composed specs run their parts (format gate + math)', async () => {
    const r = await verifyBatch([
      { id: 'a', verifier: 'math-think-answer', completion: '<think>2+2</think><answer>\\boxed{4}</answer>', gold: '4' },
      { id: 'b', verifier: 'math-think-answer', completion: '\\boxed{4}', gold: '4' },
    ], { pool });
    expect(r.map((x) => [x.status, x.score])).toEqual([['correct', 1], ['incorrect', 0]]);
  });

  it('workers that cannot start give errors with a reason, not a hang', async () => {
    const broken = new VerifierPool({ size: 1, maxHeapMb: 1 });
    try {
      const r = await verifyBatch([math('x', '1+1=2', '2')], { pool: broken, timeoutMs: 1000 });
      expect(r[0].status).toBe('error');
      expect(r[0].reason).toMatch(/fail to start/);
    } finally {
      await broken.close();
    }
  });
});
