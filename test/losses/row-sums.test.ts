// The fused weighted row sums (losses/row-sums.ts): both implementations against a plain float64
// reference and finite differences. Run: npx vitest run test/losses
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { weightedRowSums, type RowSumsImpl, type WeightedRow } from '../../losses/row-sums.js';
import { stopGradient } from '../../losses/tensor-utils.js';
import { expectClose, gradCheck, randMat, rng, t2, useCpu } from './helpers.js';

beforeAll(useCpu);

const B = 2;
const T = 5;
const r = rng(7);
const vals = {
  lp: randMat(r, B, T, -2, -0.1),
  ref: randMat(r, B, T, -2, -0.1),
  kl: randMat(r, B, T, 0, 0.3),
  gate: randMat(r, B, T, -0.5, 1.5), // negative entries exercise the abs rows' sign
  w: [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]],
  scale: randMat(r, B, T, -0.5, 0.5),
};
const C = [
  [0.7, -0.3, 0, 0.2],
  [0, 1.1, 0.5, -0.4],
];

/** Rows of every kind over the differentiable (lp, kl, gate) = xs. */
function rowsOf(lp: tf.Tensor2D, kl: tf.Tensor2D, gate: tf.Tensor2D): WeightedRow[] {
  const w = t2(vals.w);
  return [
    { x: lp, offset: t2(vals.ref), weight: w, gate },
    { x: kl, weight: w, gate, meanOver: w },
    { x: lp, weight: w, factors: [t2(vals.scale)] },
    { x: gate, abs: true, weight: w, complements: [t2(vals.scale)] },
  ];
}

/** Σ_j Σ_b out[j, b] · c_jb with fixed random c: a scalar exercising every output. */
const probe = randMat(r, C.length, B, -1, 1);
function scalarOf(impl: RowSumsImpl) {
  return (lp: tf.Tensor, kl: tf.Tensor, gate: tf.Tensor) => tf.sum(tf.mul(weightedRowSums(rowsOf(lp as tf.Tensor2D, kl as tf.Tensor2D, gate as tf.Tensor2D), C, undefined, impl).out, t2(probe))) as tf.Scalar;
}

function reference(): number[] {
  const { lp, ref, kl, gate, w, scale } = vals;
  const S = [0, 1, 2, 3].map((k) =>
    [0, 1].map((b) => {
      let acc = 0;
      for (let t = 0; t < T; t++) {
        const x = [lp[b][t] - ref[b][t], kl[b][t], lp[b][t], Math.abs(gate[b][t])][k];
        const m = [w[b][t] * gate[b][t], w[b][t] * gate[b][t], w[b][t] * scale[b][t], w[b][t] * (1 - scale[b][t])][k];
        acc += x * m;
      }
      const n = k === 1 ? Math.max(w[b].reduce((a, v) => a + v, 0), 1) : 1; // the kl row is a mean
      return acc / n;
    }),
  );
  return C.flatMap((c) => [0, 1].map((b) => c.reduce((a, ck, k) => a + ck * S[k][b], 0)));
}

describe('weightedRowSums', () => {
  for (const impl of ['host', 'tensor'] as const) {
    it(`${impl}: values match a float64 reference; the detached sums carry no gradient`, () => {
      const got = tf.tidy(() => Array.from(weightedRowSums(rowsOf(t2(vals.lp), t2(vals.kl), t2(vals.gate)), C, undefined, impl).out.dataSync()));
      expectClose(got, reference(), 1e-5, 1e-5);
      const g = tf.tidy(() => {
        const f = (x: tf.Tensor) => {
          const { out, detached } = weightedRowSums(rowsOf(x as tf.Tensor2D, t2(vals.kl), t2(vals.gate)), C, (S) => [tf.sum(S)], impl);
          const d = detached![0];
          const y = tf.add(tf.sum(out), tf.mul(d, tf.sum(x)));
          d.dispose();
          return y as tf.Scalar;
        };
        return Array.from(tf.grad(f)(t2(vals.lp)).dataSync());
      });
      // ∂/∂lp of Σ out + const·Σ lp: the detached sum acts as a constant
      const plain = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(weightedRowSums(rowsOf(x as tf.Tensor2D, t2(vals.kl), t2(vals.gate)), C, undefined, impl).out) as tf.Scalar)(t2(vals.lp)).dataSync()));
      const S = tf.tidy(() => weightedRowSums(rowsOf(t2(vals.lp), t2(vals.kl), t2(vals.gate)), C, (s) => [tf.sum(s)], impl).detached![0]);
      const c = S.dataSync()[0];
      S.dispose();
      expectClose(g, plain.map((v) => v + c), 1e-4, 1e-5);
    });
    for (const [name, which] of [
      ['x of value rows (lp)', 0],
      ['x of a gated row (kl)', 1],
      ['gate and abs row (mask)', 2],
    ] as const) {
      it(`${impl}: gradient w.r.t. the ${name} matches finite differences`, () => {
        const f = scalarOf(impl);
        const at = [vals.lp, vals.kl, vals.gate];
        const fx = (x: tf.Tensor) => f(...(at.map((v, i) => (i === which ? x : t2(v))) as [tf.Tensor, tf.Tensor, tf.Tensor]));
        const x0 = which === 2 ? vals.gate.map((row) => row.map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v))) : at[which]; // keep |gate| off the kink
        const { analytic, numeric } = gradCheck(fx, x0, 1e-2);
        expectClose(analytic, numeric, 1e-3, 1e-2);
      });
    }
  }
  it('host and tensor gradients agree for every input at once', () => {
    const grads = (impl: RowSumsImpl) =>
      tf.tidy(() => tf.grads(scalarOf(impl))([t2(vals.lp), t2(vals.kl), t2(vals.gate)]).map((g) => Array.from(g.dataSync())));
    const h = grads('host');
    const t = grads('tensor');
    h.forEach((g, i) => expectClose(g, t[i], 1e-5, 1e-5));
  });
  for (const impl of ['host', 'tensor'] as const) {
    it(`${impl}: a stopped gate (stopGradient) is a constant: same values and gradients to lp and kl, none through it`, () => {
      // xs = (lp, kl, source of the gate); the gate is the source as is, or stopGradient of it
      const run = (stop: boolean) =>
        tf.tidy(() => {
          const f = (lp: tf.Tensor, kl: tf.Tensor, g: tf.Tensor) => {
            const gate = (stop ? stopGradient(g) : g) as tf.Tensor2D;
            return tf.sum(tf.mul(weightedRowSums(rowsOf(lp as tf.Tensor2D, kl as tf.Tensor2D, gate), C, undefined, impl).out, t2(probe))) as tf.Scalar;
          };
          const { value, grads } = tf.valueAndGrads(f)([t2(vals.lp), t2(vals.kl), t2(vals.gate)]);
          return { value: value.dataSync()[0], grads: grads.map((g) => Array.from(g.dataSync())) };
        });
      const plain = run(false);
      const stopped = run(true);
      expectClose([stopped.value], [plain.value], 1e-6, 1e-6);
      expectClose(stopped.grads[0], plain.grads[0], 1e-6, 1e-6);
      expectClose(stopped.grads[1], plain.grads[1], 1e-6, 1e-6);
      expect(stopped.grads[2].every((v) => v === 0)).toBe(true);
    });
  }
  it('tensor: a stopped gate needs no second op (fewer kernels for the same sums)', async () => {
    const kernels = async (stop: boolean) => {
      const xs = [t2(vals.lp), t2(vals.kl)];
      const gate = stop ? stopGradient(t2(vals.gate)) : t2(vals.gate);
      const f = (lp: tf.Tensor, kl: tf.Tensor) => tf.sum(weightedRowSums(rowsOf(lp as tf.Tensor2D, kl as tf.Tensor2D, gate), C, undefined, 'tensor').out) as tf.Scalar;
      const n = (await tf.profile(() => {
        tf.tidy(() => {
          tf.grads(f)(xs);
        });
      })).kernels.length;
      tf.dispose([...xs, gate]);
      return n;
    };
    expect(await kernels(true)).toBeLessThan(await kernels(false));
  });
  it('tensor: a forward and backward leave no tensor behind', () => {
    const xs = [t2(vals.lp), t2(vals.kl), t2(vals.gate)];
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads(scalarOf('tensor'))(xs);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
  });
});
