import { describe, expect, it } from 'vitest';
import { deriveRng, Rng } from '../../common/rng.js';

describe('Rng (engine/rng.ts)', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('resumes exactly from a saved state', () => {
    const r = new Rng(7);
    for (let i = 0; i < 10; i++) r.next();
    const state = JSON.parse(JSON.stringify(r.getState()));
    const rest = Array.from({ length: 20 }, () => r.next());
    const again = Rng.fromState(state);
    expect(Array.from({ length: 20 }, () => again.next())).toEqual(rest);
    expect(() => r.setState([0, 0, 0, 0])).toThrow(/all-zero/);
  });

  it('derives independent, reproducible streams from (seed, name, iteration)', () => {
    expect(deriveRng(1, 'rollout', 3).next()).toBe(deriveRng(1, 'rollout', 3).next());
    const xs = [deriveRng(1, 'rollout', 3), deriveRng(1, 'rollout', 4), deriveRng(1, 'sft', 3), deriveRng(2, 'rollout', 3)].map((r) => r.next());
    expect(new Set(xs).size).toBe(4);
  });

  it('draws uniforms in [0,1), ints in range, and roughly standard normals', () => {
    const r = new Rng(5);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.int(3)]++;
    expect(Math.min(...counts)).toBeGreaterThan(900);
  });
});
