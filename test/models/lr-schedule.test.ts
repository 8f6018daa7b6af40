/** npx vitest run test/models/lr-schedule.test.ts */
import { describe, expect, it } from 'vitest';
import { lrAt } from '../../models/lr-schedule.js';

describe('lrAt', () => {
  it('is constant, or warms up linearly then holds', () => {
    expect([0, 5, 1000].map((s) => lrAt({ kind: 'constant' }, 0.1, s))).toEqual([0.1, 0.1, 0.1]);
    const w = { kind: 'linear-warmup', warmupSteps: 4 } as const;
    expect([0, 1, 2, 3, 4, 100].map((s) => lrAt(w, 1, s))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });

  it('decays by a cosine from the peak to the floor after the warm-up, then stays there', () => {
    const c = { kind: 'cosine', warmupSteps: 2, totalSteps: 12, minLrRatio: 0.1 } as const;
    expect(lrAt(c, 1, 0)).toBeCloseTo(0.5);
    expect(lrAt(c, 1, 2)).toBeCloseTo(1);
    expect(lrAt(c, 1, 7)).toBeCloseTo(0.55); // half way: (1 + 0.1) / 2
    expect(lrAt(c, 1, 12)).toBeCloseTo(0.1);
    expect(lrAt(c, 1, 50)).toBeCloseTo(0.1);
    for (let s = 3; s < 12; s++) expect(lrAt(c, 1, s)).toBeLessThan(lrAt(c, 1, s - 1));
  });

  it('rejects bad steps and settings', () => {
    expect(() => lrAt({ kind: 'constant' }, 1, -1)).toThrow(/step/);
    expect(() => lrAt({ kind: 'cosine', warmupSteps: 5, totalSteps: 5 }, 1, 6)).toThrow(/totalSteps/);
    expect(() => lrAt({ kind: 'cosine', totalSteps: 5, minLrRatio: 2 }, 1, 1)).toThrow(/minLrRatio/);
  });
});
