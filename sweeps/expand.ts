/**
 * Expanding a sweep section into trial parameters: grid points (cartesian product, first key slowest)
 * x random draws per point x seeds (innermost). Pure and seeded: the same section always gives the
 * same trials in the same order, which is what makes trial ids deterministic.
 */
import { Rng } from '../common/rng.js';
import type { Distribution, SweepSection } from '../configs/sweep-schema.js';
import type { ParamValue, TrialParams } from '../workflows/sweep-plan.js';


/** Four significant digits: readable labels, and the same value in the config, the id and the report. */
const round = (x: number) => Number(x.toPrecision(4));

export function draw(d: Distribution, u: () => number): ParamValue {
  if ('uniform' in d) return round(d.uniform[0] + u() * (d.uniform[1] - d.uniform[0]));
  if ('logUniform' in d) {
    const [lo, hi] = d.logUniform.map(Math.log);
    return round(Math.exp(lo + u() * (hi - lo)));
  }
  if ('intRange' in d) return d.intRange[0] + Math.floor(u() * (d.intRange[1] - d.intRange[0] + 1));
  return d.choice[Math.floor(u() * d.choice.length)];
}

export function gridPoints(grid: Record<string, ParamValue[]>): TrialParams[] {
  let points: TrialParams[] = [{}];
  for (const [key, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  return points;
}

/** Number of trials without building them (checked against `maxTrials` first). */
export function trialCount(section: SweepSection): number {
  const grid = Object.values(section.grid).reduce((n, values) => n * values.length, 1);
  return grid * (section.random?.samples ?? 1) * (section.seeds?.length ?? 1);
}

export function expandTrials(section: SweepSection): TrialParams[] {
  let points = gridPoints(section.grid);
  if (section.random) {
    const { samples, seed, params } = section.random;
    const rng = new Rng(seed);
    const u = () => rng.next();
    points = points.flatMap((p) => Array.from({ length: samples }, () => {
      const drawn: TrialParams = { ...p };
      for (const [key, d] of Object.entries(params)) drawn[key] = draw(d, u);
      return drawn;
    }));
  }
  if (section.seeds) points = points.flatMap((p) => section.seeds!.map((seed) => ({ ...p, seed })));
  return points;
}
