import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../models/optimizer.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);

/** Reference AdamW on plain numbers (Loshchilov & Hutter Alg. 2, decay on matrices only). */
function refAdamW(p: number[], grads: number[][], c: { lr: number; b1: number; b2: number; eps: number; wd: number; clip?: number }): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  let x = [...p];
  grads.forEach((g0, i) => {
    const t = i + 1;
    const norm = Math.sqrt(g0.reduce((a, g) => a + g * g, 0));
    const s = c.clip && norm > c.clip ? c.clip / (norm + 1e-6) : 1;
    const g = g0.map((gi) => gi * s);
    x = x.map((xi, k) => {
      m[k] = c.b1 * m[k] + (1 - c.b1) * g[k];
      v[k] = c.b2 * v[k] + (1 - c.b2) * g[k] * g[k];
      const mh = m[k] / (1 - c.b1 ** t);
      const vh = v[k] / (1 - c.b2 ** t);
      return xi - c.lr * (mh / (Math.sqrt(vh) + c.eps) + c.wd * xi);
    });
  });
  return x;
}

describe('AdamW', () => {
  it('matches a hand computation on a quadratic, with decoupled decay and clipping', () => {
    const c = { lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, clip: 1.5 };
    const start = [1, -2, 3, 0.5];
    const w = tf.variable(tf.tensor2d(start, [2, 2]));
    const opt = new AdamW(new Map([['w', w]]), { lr: c.lr, beta1: c.b1, beta2: c.b2, eps: c.eps, weightDecay: c.wd });
    const seen: number[][] = [];
    for (let s = 0; s < 5; s++) {
      // loss = sum(w^2) / 2 + sum(w)  ->  grad = w + 1
      const g = Array.from(w.dataSync()).map((x) => x + 1);
      seen.push(g);
      const gt = tf.tensor2d(g, [2, 2]);
      const norm = opt.applyGradients({ w: gt }, { maxGradNorm: c.clip });
      expect(norm).toBeCloseTo(Math.sqrt(g.reduce((a, x) => a + x * x, 0)), 4);
      gt.dispose();
    }
    const want = refAdamW(start, seen, c);
    Array.from(w.dataSync()).forEach((x, k) => expect(x).toBeCloseTo(want[k], 5));
    expect(opt.step).toBe(5);
    opt.dispose();
    w.dispose();
  });

  it('does not decay vectors (biases, layer-norm gains)', () => {
    const b = tf.variable(tf.tensor1d([2]));
    const opt = new AdamW(new Map([['b', b]]), { lr: 0.1, weightDecay: 0.5 });
    const g = tf.tensor1d([0]);
    opt.applyGradients({ b: g });
    expect(b.dataSync()[0]).toBeCloseTo(2, 6);
    tf.dispose([b, g]);
    opt.dispose();
  });

  it('leaves a parameter without a gradient untouched, moments included', () => {
    const a = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const b = tf.variable(tf.tensor1d([5, 6]));
    const opt = new AdamW(new Map<string, tf.Variable>([['a', a], ['b', b]]), { lr: 0.1, weightDecay: 0.1 });
    const ga = tf.tensor2d([0.5, -1, 2, 0], [2, 2]);
    const gb = tf.tensor1d([1, -1]);
    opt.applyGradients({ a: ga, b: gb });
    const before = { a: Array.from(a.dataSync()), b: Array.from(b.dataSync()), state: opt.exportState() };
    opt.applyGradients({ a: ga });
    const after = opt.exportState();
    expect(Array.from(b.dataSync())).toEqual(before.b);
    expect(after.m.b).toEqual(before.state.m.b);
    expect(after.v.b).toEqual(before.state.v.b);
    expect(Array.from(a.dataSync())).not.toEqual(before.a);
    expect(after.m.a).not.toEqual(before.state.m.a);
    expect(() => opt.applyGradients({})).toThrow(/no gradient/);
    tf.dispose([a, b, ga, gb]);
    opt.dispose();
  });

  /**
   * One AdamW over every shape against one AdamW per parameter, `steps` steps of seeded gradients to
   * the parameters in `withGradient` (default all): weights and both moments agree bit for bit, and
   * a parameter without a gradient keeps its starting values.
   */
  function expectJointAsAlone(shapes: number[][], o: { startSeed: number; gradSeed: (step: number, k: number) => number; steps: number; cfg: { lr: number; weightDecay: number }; withGradient?: number[] }): void {
    const start = shapes.map((s, k) => tf.randomNormal(s, 0, 1, 'float32', o.startSeed + k));
    const joint = start.map((t) => tf.variable(t.clone()));
    const alone = start.map((t) => tf.variable(t.clone()));
    const optJoint = new AdamW(new Map(joint.map((v, k) => [`p${k}`, v])), o.cfg);
    const optsAlone = alone.map((v, k) => new AdamW(new Map([[`p${k}`, v]]), o.cfg));
    const withGradient = o.withGradient ?? shapes.map((_, k) => k);
    for (let s = 0; s < o.steps; s++) {
      const grads = withGradient.map((k) => [k, tf.randomNormal(shapes[k], 0, 1, 'float32', o.gradSeed(s, k))] as const);
      optJoint.applyGradients(Object.fromEntries(grads.map(([k, g]) => [`p${k}`, g])));
      grads.forEach(([k, g]) => optsAlone[k].applyGradients({ [`p${k}`]: g }));
      tf.dispose(grads.map(([, g]) => g));
    }
    joint.forEach((v, k) => {
      expect(v.shape).toEqual(shapes[k]);
      expect(Array.from(v.dataSync()), `p${k}`).toEqual(Array.from(alone[k].dataSync()));
      for (const which of ['m', 'v'] as const) expect(Array.from(optJoint.moment(which, `p${k}`)), `${which} of p${k}`).toEqual(Array.from(optsAlone[k].moment(which, `p${k}`)));
      if (!withGradient.includes(k)) expect(Array.from(v.dataSync()), `p${k} has no gradient`).toEqual(Array.from(start[k].dataSync()));
    });
    tf.dispose([...start, ...joint, ...alone]);
    [optJoint, ...optsAlone].forEach((opt) => opt.dispose());
  }

  it('updates several parameters of different shapes as separate loops would', () => {
    // The fused update must keep each parameter's elements in its own place: compare with one
    // optimizer per parameter (no clipping, so the global norm does not couple them).
    expectJointAsAlone([[3, 2], [4], [2, 2, 2]], { startSeed: 7, gradSeed: (s, k) => 100 * s + k, steps: 3, cfg: { lr: 0.05, weightDecay: 0.2 } });
  });

  it('groups small parameters, leaves a large one alone and skips one without a gradient, bit for bit', () => {
    // [2048, 2048] is 4 Mi values, over a group's 1 Mi: a group of its own; the small ones are packed by kind around it.
    // p3 gets no gradient: untouched, moments included.
    expectJointAsAlone([[3, 2], [2048, 2048], [4], [5, 3], [6]], {
      startSeed: 11, gradSeed: (s, k) => 50 * s + k, steps: 2, cfg: { lr: 0.05, weightDecay: 0.1 }, withGradient: [0, 1, 2, 4],
    });
  });

  it('exports and re-imports its state exactly', () => {
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const opt = new AdamW(new Map([['w', w]]), { lr: 0.01 });
    const g = tf.tensor2d([0.5, -1, 2, 0], [2, 2]);
    opt.applyGradients({ w: g });
    const st = opt.exportState();
    const w2 = tf.variable(tf.zeros([2, 2]));
    const opt2 = new AdamW(new Map([['w', w2]]));
    opt2.importState(st);
    expect(opt2.exportState()).toEqual(st);
    expect(opt2.step).toBe(1);
    expect(() => opt2.importState({ step: 1, m: {}, v: {} })).toThrow(/missing/);
    tf.dispose([w, w2, g]);
    opt.dispose();
    opt2.dispose();
  });

  it('refuses a non-finite gradient', () => {
    const w = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW(new Map([['w', w]]));
    const g = tf.tensor1d([NaN]);
    expect(() => opt.applyGradients({ w: g })).toThrow(/non-finite/);
    tf.dispose([w, g]);
    opt.dispose();
  });
});
