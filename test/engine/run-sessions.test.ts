/**
 * The compute host's per-run logic, in-process: steps are idempotent (a retried update returns the
 * recorded result and never steps twice), runs are evicted beyond the memory budget, and an evicted
 * run reloads from its weights version exactly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InlineWriter, type StepWriter } from '../../engine/background-writer.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { createPolicy } from '../../engine/policy.js';
import { runBatchOf } from '../../engine/run-batch.js';
import { decoderShape, runMemoryNeed } from '../../engine/run-memory.js';
import { scoreAhead } from '../support/score-ahead.js';
import { writeRewards } from '../../store/rollout-files.js';
import { readVersion, versionDir } from '../../store/weight-versions.js';
import { learningTinyConfig, tempStateDir } from '../support/harness.js';

const config = learningTinyConfig({ experiment: 'sessions' });
const noProgress = () => undefined;

const weightsBytes = (runDir: string, v: number) => readFileSync(join(versionDir(runDir, v), 'weights.bin'));

describe('RunSessions', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('a retried update returns the recorded result and does not step again', async () => {
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const runDir = join(tempStateDir('sessions'), 'run');
    const args = { runId: 'r', config, runDir };
    await sessions.warmStart(args, noProgress);
    const rollout = await sessions.rollout({ ...args, iteration: 1 }, noProgress);
    expect(scoreAhead(rollout.rolloutFile)).toBeTruthy(); // the task's own verifier, as the score activity runs it
    const first = await sessions.update({ ...args, iteration: 1 }, noProgress);
    expect(first.metrics['update/steps']).toBeGreaterThan(0);
    const optimizerStep = () => (JSON.parse(readFileSync(join(versionDir(runDir, 1), 'weights.json'), 'utf8')) as { optimizer: { step: number } }).optimizer.step;
    const stepAfterFirst = optimizerStep();
    const bytesAfterFirst = weightsBytes(runDir, 1);

    const retried = await sessions.update({ ...args, iteration: 1 }, noProgress);
    expect(retried).toEqual(first);
    expect(optimizerStep()).toBe(stepAfterFirst);
    expect(weightsBytes(runDir, 1).equals(bytesAfterFirst)).toBe(true);
    // The resident model was not stepped either: its next rollout equals a fresh worker's, which
    // loads version 1 from disk (log-probs would differ after a second step).
    const next = await sessions.rollout({ ...args, iteration: 2 }, noProgress);
    const nextText = readFileSync(next.rolloutFile, 'utf8');
    const fresh = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const freshDir = join(tempStateDir('sessions-fresh'), 'run');
    const { cpSync } = await import('node:fs');
    cpSync(runDir, freshDir, { recursive: true, filter: (src) => !src.includes(`${join('rollouts', '2.jsonl')}`) });
    const freshNext = await fresh.rollout({ ...args, runDir: freshDir, iteration: 2 }, noProgress);
    expect(readFileSync(freshNext.rolloutFile, 'utf8')).toBe(nextText);
  }, 60_000);

  it('computeRollout and computeUpdate return once computed; `written` settles when the output is on disk', async () => {
    // A writer that holds jobs until released, so "computed" and "written" come apart.
    const inline = new InlineWriter();
    let hold: Promise<void> | null = null;
    let release = () => {};
    const writer: StepWriter = {
      submit: async (job) => { if (hold) await hold; return inline.submit(job); },
      settled: async () => {},
      close: async () => {},
    };
    const holdWrites = () => { hold = new Promise<void>((resolve) => { release = () => { hold = null; resolve(); }; }); };
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30, writer });
    const runDir = join(tempStateDir('sessions-computed'), 'run');
    const args = { runId: 'r', config, runDir };
    await sessions.warmStart(args, noProgress);

    holdWrites();
    const rollout = await sessions.computeRollout({ ...args, iteration: 1 }, noProgress);
    expect(existsSync(rollout.result.rolloutFile)).toBe(false);
    release();
    await rollout.written;
    expect(existsSync(rollout.result.rolloutFile)).toBe(true);
    expect(scoreAhead(rollout.result.rolloutFile)).toBeTruthy();

    holdWrites();
    const update = await sessions.computeUpdate({ ...args, iteration: 1 }, noProgress);
    expect(update.result.version).toBe(1);
    expect(readVersion(runDir, 1)).toBeNull();
    // Asked again meanwhile (the workflow's request for a step computed ahead): the same pending write.
    expect((await sessions.computeUpdate({ ...args, iteration: 1 }, noProgress)).written).toBe(update.written);
    release();
    await update.written;
    expect(readVersion(runDir, 1)?.meta.result).toEqual(update.result);
  }, 60_000);

  it('a step asked again while its write is pending (run-ahead plans done steps anew) is answered from memory', async () => {
    // Writes are held, so nothing is on disk yet: only memory can tell that a step was done.
    const inline = new InlineWriter();
    let holding = false;
    const held: (() => Promise<void>)[] = [];
    const submitted: string[] = [];
    const writer: StepWriter = {
      submit: (job) => {
        if (!holding) return inline.submit(job);
        submitted.push(job.op);
        return new Promise<void>((resolve, reject) => held.push(() => inline.submit(job).then(resolve, reject)));
      },
      settled: async () => {},
      close: async () => {},
    };
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30, writer });
    const runDir = join(tempStateDir('sessions-again'), 'run');
    const args = { runId: 'a', config, runDir };
    const flush = async () => { while (held.length > 0) await held.shift()!(); };
    await sessions.warmStart(args, noProgress);
    holding = true;

    const first = await sessions.computeRollout({ ...args, iteration: 1 }, noProgress);
    expect(sessions.scoreRollout({ ...args, iteration: 1 })).toBe(true);
    await sessions.computeUpdate({ ...args, iteration: 1 }, noProgress);
    await sessions.computeRollout({ ...args, iteration: 2 }, noProgress);
    expect(submitted).toEqual(['rollouts', 'rewards', 'version', 'rollouts']);

    const again = await sessions.computeRollout({ ...args, iteration: 1 }, noProgress);
    expect(again.result).toEqual(first.result);
    expect(again.written).toBe(first.written);
    expect(sessions.scoreRollout({ ...args, iteration: 1 })).toBe(true);
    expect(submitted).toEqual(['rollouts', 'rewards', 'version', 'rollouts']); // nothing done twice
    await flush();
    expect(existsSync(first.result.rolloutFile)).toBe(true);
  }, 60_000);

  it('evicts the least recently used run beyond the budget and reloads it exactly', async () => {
    const home = tempStateDir('sessions-lru');
    // Room for one run (its resident weights and moments plus what its steps need), not two.
    const { model } = await createPolicy(config);
    const need = runMemoryNeed(decoderShape(model), runBatchOf(config));
    model.dispose();
    const one = new RunSessions({ memoryBudgetBytes: need.total + 1 });
    const a = { runId: 'a', config, runDir: join(home, 'a') };
    const b = { runId: 'b', config: { ...config, seed: 8 }, runDir: join(home, 'b') };
    await one.warmStart(a, noProgress);
    expect(one.residentRuns()).toEqual(['a']);
    await one.warmStart(b, noProgress);
    expect(one.residentRuns()).toEqual(['b']);

    // Run a continues after eviction: reloaded from versions/0 it behaves as if it had stayed.
    const rolloutA = await one.rollout({ ...a, iteration: 1 }, noProgress);
    expect(scoreAhead(rolloutA.rolloutFile)).toBeTruthy();
    await one.update({ ...a, iteration: 1 }, noProgress);
    expect(one.residentRuns()).toEqual(['a']);

    const reference = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const ref = { ...a, runDir: join(home, 'a-reference') };
    await reference.warmStart(ref, noProgress);
    const rolloutRef = await reference.rollout({ ...ref, iteration: 1 }, noProgress);
    expect(readFileSync(rolloutRef.rolloutFile, 'utf8')).toBe(readFileSync(rolloutA.rolloutFile, 'utf8'));
    expect(scoreAhead(rolloutRef.rolloutFile)).toBeTruthy();
    await reference.update({ ...ref, iteration: 1 }, noProgress);
    expect(weightsBytes(ref.runDir, 1).equals(weightsBytes(a.runDir, 1))).toBe(true);
    expect(readVersion(a.runDir, 1)).not.toBeNull();
  }, 120_000); // three warm starts: over a minute on a loaded 2-core machine

  it('refuses a rewards file whose verdicts are not in its rollout\'s order, and steps nothing', async () => {
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const runDir = join(tempStateDir('sessions-misaligned'), 'run');
    const args = { runId: 'm', config, runDir };
    await sessions.warmStart(args, noProgress);
    const rollout = await sessions.rollout({ ...args, iteration: 1 }, noProgress);
    const verdicts = scoreAhead(rollout.rolloutFile)!;
    [verdicts[0], verdicts[1]] = [verdicts[1], verdicts[0]];
    writeRewards(rollout.rolloutFile, verdicts);
    await expect(sessions.update({ ...args, iteration: 1 }, noProgress)).rejects.toThrow(`verdict 0 is for "${verdicts[0].id}"`);
    expect(readVersion(runDir, 1)).toBeNull();
  }, 60_000);
});

describe('warm start with untilAccuracy', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('stops at the first probe that reaches the target, and runs every step when none does', async () => {
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const home = tempStateDir('sessions-until');
    const early = await sessions.warmStart({ runId: 'early', runDir: join(home, 'early'), config: { ...config, warmStart: { ...config.warmStart, steps: 400, untilAccuracy: 0.05 } } }, noProgress);
    expect(early.metrics['sft/steps']).toBeLessThan(400);
    expect(early.metrics['sft/steps'] % 50).toBe(0);
    expect(early.metrics['sft/trainAccuracy']).toBeGreaterThanOrEqual(0.05);

    const full = await sessions.warmStart({ runId: 'full', runDir: join(home, 'full'), config: { ...config, warmStart: { ...config.warmStart, steps: 100, untilAccuracy: 1 } } }, noProgress);
    expect(full.metrics['sft/steps']).toBe(100);
    expect(full.metrics['sft/trainAccuracy']).toBeLessThan(1);
  }, 120_000);
});
