/** Sweep files for the tests: the tiny run as the base, a small `sweep:` section. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT } from '../support/harness.js';

export const tinyYaml = () => readFileSync(join(PROJECT, 'test/fixtures/tiny.yaml'), 'utf8');

/** A 2x2 grid over the tiny run. */
export function gridSweepYaml(experiment: string, extra = ''): string {
  return `${tinyYaml().replace('experiment: test-tiny', `experiment: ${experiment}`)}
sweep:
  grid:
    optimizer.lr: [0.003, 0.0003]
    rollout.groupSize: [2, 4]
  metric: reward/mean
  direction: max
  concurrency: 2
  pollSeconds: 1
${extra}`;
}
