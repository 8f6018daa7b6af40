// Shared helpers for test/losses (run: npx vitest run test/losses).
import * as tf from '@tensorflow/tfjs';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export const t2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, 'float32');

export function num(x: tf.Tensor): number {
  return x.dataSync()[0];
}

/** Deterministic uniform stream (mulberry32), for random test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randMat(r: () => number, b: number, t: number, lo: number, hi: number): number[][] {
  return Array.from({ length: b }, () => Array.from({ length: t }, () => lo + (hi - lo) * r()));
}

/**
 * Compares tfjs's analytic gradient of `f` w.r.t. `x` with central finite differences of `f`
 * (float32: step h and a mixed tolerance). Returns the worst |analytic − numeric| − tol·|numeric|.
 */
export function gradCheck(f: (x: tf.Tensor) => tf.Scalar, x0: number[][], h = 1e-2): { analytic: number[]; numeric: number[] } {
  const x = tf.tensor2d(x0);
  const g = tf.grad(f)(x);
  const analytic = Array.from(g.dataSync());
  g.dispose();
  x.dispose();
  const flat = x0.flat();
  const numeric = flat.map((_, i) => {
    const plus = flat.slice();
    const minus = flat.slice();
    plus[i] += h;
    minus[i] -= h;
    const shape: [number, number] = [x0.length, x0[0].length];
    const fp = tf.tidy(() => num(f(tf.tensor2d(plus, shape))));
    const fm = tf.tidy(() => num(f(tf.tensor2d(minus, shape))));
    return (fp - fm) / (2 * h);
  });
  return { analytic, numeric };
}

export function expectClose(actual: number[], expected: number[], atol: number, rtol = 0): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`index ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})\nactual:   ${actual.join(', ')}\nexpected: ${expected.join(', ')}`);
    }
  });
}
