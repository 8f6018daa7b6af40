// Shared helpers for test/losses (run: npx vitest run test/losses).
import { Rng } from '../../common/rng.js';
import * as tf from '@tensorflow/tfjs';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export const t2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, 'float32');

export function num(x: tf.Tensor): number {
  return x.dataSync()[0];
}

/** Deterministic uniform stream, for random test inputs. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export function randMat(r: () => number, b: number, t: number, lo: number, hi: number): number[][] {
  return Array.from({ length: b }, () => Array.from({ length: t }, () => lo + (hi - lo) * r()));
}

/**
 * tfjs's analytic gradient of `f` at x0 (any shape) and central finite differences of `f`
 * (float32: use a step of ~1e-3..1e-2 and a mixed tolerance when comparing).
 */
export function gradCheck(f: (x: tf.Tensor) => tf.Scalar, x0: number[][] | number[], h = 1e-2, shape?: number[]): { analytic: number[]; numeric: number[] } {
  const flat = (x0 as number[][]).flat() as number[];
  const shp = shape ?? (Array.isArray(x0[0]) ? [x0.length, (x0[0] as number[]).length] : [x0.length]);
  const analytic = tf.tidy(() => Array.from(tf.grad(f)(tf.tensor(flat, shp)).dataSync()));
  const numeric = flat.map((_, i) => {
    const plus = flat.slice();
    const minus = flat.slice();
    plus[i] += h;
    minus[i] -= h;
    const fp = tf.tidy(() => num(f(tf.tensor(plus, shp))));
    const fm = tf.tidy(() => num(f(tf.tensor(minus, shp))));
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
