/**
 * Run-ahead (engine/run-ahead.ts): which steps the host plans after each request, that requests go
 * before planned work, and, with the real RunSessions in-process, that a loop served with run-ahead
 * finds its outputs already computed and ends with the same weights, byte for byte, as without.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackgroundWriter, InlineWriter } from '../../engine/background-writer.js';
import { AHEAD_ITERATIONS, HostQueue, planAhead, stepsAfter } from '../../engine/run-ahead.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { readRewards, rolloutFile } from '../../store/rollout-files.js';
import { readVersion, versionDir, VERSIONS_KEPT } from '../../store/weight-versions.js';
import { scoreAhead } from '../support/score-ahead.js';
import { learningTinyConfig, tempStateDir } from '../support/harness.js';

const noProgress = () => undefined;

describe('stepsAfter', () => {
  const config = learningTinyConfig({ experiment: 'ahead', run: { iterations: 4, evalEvery: 2 } });
  const show = (op: string, i: number) => stepsAfter(op, i, config).map((s) => `${s.op}${s.iteration}`).join(' ');

  it('plans the rest of the iteration and the next two up to the second one\'s update (and its evaluation if due), evaluating when due, never past the last iteration', () => {
    expect(show('warmStart', 0)).toBe('rollout1 score1 update1 rollout2 score2 update2 evaluate2');
    expect(show('rollout', 1)).toBe('score1 update1 rollout2 score2 update2 evaluate2 rollout3 score3 update3');
    expect(show('update', 1)).toBe('rollout2 score2 update2 evaluate2 rollout3 score3 update3');
    expect(show('update', 2)).toBe('evaluate2 rollout3 score3 update3 rollout4 score4 update4 evaluate4');
    expect(show('evaluate', 2)).toBe('rollout3 score3 update3 rollout4 score4 update4 evaluate4');
    expect(show('rollout', 3)).toBe('score3 update3 rollout4 score4 update4 evaluate4');
    expect(show('update', 4)).toBe('evaluate4');
    expect(show('release', 4)).toBe('');
  });
});

describe('run-ahead depth', () => {
  it('stays below the number of weight versions kept, so the version the workflow checkpoints is still there', () => {
    expect(AHEAD_ITERATIONS).toBeLessThan(VERSIONS_KEPT);
  });
});

describe('HostQueue', () => {
  it('serves waiting requests before planned steps, and planned steps round robin across runs', async () => {
    const queue = new HostQueue();
    const order: string[] = [];
    const task = (name: string) => async () => { order.push(name); await new Promise((r) => setTimeout(r, 1)); };
    queue.request(task('r1'));
    queue.plan('a', [task('a1'), task('a2')]);
    queue.plan('b', [task('b1')]);
    queue.request(task('r2'));
    await queue.idle();
    expect(order).toEqual(['r1', 'r2', 'a1', 'b1', 'a2']);
  });

  it('drop forgets a run\'s planned steps', async () => {
    const queue = new HostQueue();
    const order: string[] = [];
    queue.request(async () => { await new Promise((r) => setTimeout(r, 1)); order.push('r'); queue.drop('a'); });
    queue.plan('a', [async () => { order.push('a1'); }]); // planned while the request runs
    await queue.idle();
    expect(order).toEqual(['r']);
  });

  it('reads a request that arrived during a planned step before starting the next planned step', async () => {
    const queue = new HostQueue();
    const order: string[] = [];
    queue.plan('a', [
      async () => {
        order.push('a1');
        // A request arrives as a macrotask (a thread message) while a1 runs; a1 itself ends in microtasks.
        setImmediate(() => queue.request(async () => { order.push('request'); }));
        await Promise.resolve();
      },
      async () => { order.push('a2'); },
    ]);
    await queue.idle();
    expect(order).toEqual(['a1', 'request', 'a2']);
  });
});

describe('planAhead', () => {
  it('works ahead only for a run whose model is resident', async () => {
    const config = learningTinyConfig({ experiment: 'ahead', run: { iterations: 4 } });
    const calls: string[] = [];
    let resident = false;
    const runner = {
      computeRollout: async (a: { iteration: number }) => { calls.push(`rollout${a.iteration}`); },
      spoValues: async () => undefined,
      computeUpdate: async (a: { iteration: number }) => { calls.push(`update${a.iteration}`); },
      evaluate: async () => undefined,
      scoreRollout: () => false,
      isResident: () => resident,
    };
    const queue = new HostQueue();
    planAhead(queue, runner, 'update', { runId: 'r', config, runDir: tempStateDir('ahead-resident'), iteration: 1 });
    await queue.idle();
    expect(calls).toEqual([]); // evicted: nothing done ahead, the plan dropped
    resident = true;
    planAhead(queue, runner, 'update', { runId: 'r', config, runDir: tempStateDir('ahead-resident'), iteration: 1 });
    await queue.idle();
    expect(calls[0]).toBe('rollout2'); // then its score fails (no rollout file here) and the plan stops
    expect(calls).toEqual(['rollout2']);
  });
});

describe('run-ahead with the real RunSessions', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const config = learningTinyConfig({ experiment: 'ahead', run: { iterations: 3, evalEvery: 2, checkpointEvery: 3 } });

  /**
   * The workflow's sequence of requests for the whole run; planAhead after each when `ahead`, with
   * the outputs written on a writer thread as in the compute host.
   */
  async function serveRun(ahead: boolean): Promise<{ runDir: string; found: string[] }> {
    const writer = ahead ? new BackgroundWriter() : new InlineWriter();
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30, writer });
    const queue = new HostQueue();
    const runDir = join(tempStateDir(`ahead-${ahead}`), 'run');
    const args = { runId: 'r', config, runDir };
    const found: string[] = [];
    const request = async <T,>(op: string, iteration: number, serve: () => Promise<T> | T): Promise<T> => {
      // What the host finds already done when the workflow's request arrives.
      await queue.idle();
      await writer.settled(rolloutFile(runDir, iteration));
      await writer.settled(versionDir(runDir, iteration));
      if (op === 'rollout' && existsSync(rolloutFile(runDir, iteration))) found.push(`rollout${iteration}`);
      if (op === 'score' && readRewards(rolloutFile(runDir, iteration))) found.push(`score${iteration}`);
      if (op === 'update' && readVersion(runDir, iteration)) found.push(`update${iteration}`);
      const value = await serve();
      if (ahead) planAhead(queue, sessions, op, { ...args, iteration });
      return value;
    };
    await request('warmStart', 0, () => sessions.warmStart(args, noProgress));
    for (let i = 1; i <= config.run.iterations; i++) {
      const at = { ...args, iteration: i };
      const rollout = await request('rollout', i, () => sessions.rollout(at, noProgress));
      await request('score', i, () => expect(scoreAhead(rollout.rolloutFile)).toBeTruthy());
      await request('update', i, () => sessions.update(at, noProgress));
      if (i % config.run.evalEvery === 0 || i === config.run.iterations) await request('evaluate', i, () => sessions.evaluate(at));
    }
    await queue.idle();
    await writer.close();
    return { runDir, found };
  }

  it('finds every step of the next iteration done, and ends with the same files as without run-ahead', async () => {
    const plain = await serveRun(false);
    const ahead = await serveRun(true);
    expect(plain.found).toEqual([]);
    expect(ahead.found).toEqual(['rollout1', 'score1', 'update1', 'rollout2', 'score2', 'update2', 'rollout3', 'score3', 'update3']);
    // Nothing beyond the last iteration was computed.
    expect(existsSync(rolloutFile(ahead.runDir, 4))).toBe(false);
    for (let v = 1; v <= 3; v++) {
      const bytes = (dir: string) => readFileSync(join(versionDir(dir, v), 'weights.bin'));
      expect(bytes(ahead.runDir).equals(bytes(plain.runDir)), `weights version ${v}`).toBe(true);
      expect(readFileSync(rolloutFile(ahead.runDir, v), 'utf8')).toBe(readFileSync(rolloutFile(plain.runDir, v), 'utf8'));
    }
  });
});
