/**
 * The compute host's writer thread (engine/background-writer.ts): jobs run in order on another
 * thread, a transferred buffer arrives whole, `settled` waits for a pending write, and a failed
 * write rejects its own promise without stopping the writes after it. And the packed form of
 * rollout records (store/rollout-files.ts) that the writer receives.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackgroundWriter } from '../../engine/background-writer.js';
import { scoreInline } from '../../engine/score-ahead.js';
import { mixFromEntries } from '../../rewards/mix.js';
import { packRollouts, packStrings, readRewards, readRolloutMetrics, readRollouts, rewardRecords, rolloutFile, rolloutRecord, unpackRollouts, unpackStrings, type RolloutRecord } from '../../store/rollout-files.js';
import { readVersion, versionDir } from '../../store/weight-versions.js';
import { tempStateDir } from '../support/harness.js';

const record = (id: string): RolloutRecord => ({
  id, promptId: 'p', group: 0, prompt: '12+7=', answer: '19', verifier: 'exact-integer', completion: '19',
  promptTokens: [1, 2, 3, 4, 5], tokens: [6, 7, 0], logprobs: [-0.125, -1.0000000000000002, -3.3e-5], entropies: [0.5, 0.25, 1e-9], finished: true,
});

describe('BackgroundWriter', () => {
  it('writes versions in submission order, pruning old versions as the inline writes do', async () => {
    const runDir = join(tempStateDir('writer-order'), 'run');
    const writer = new BackgroundWriter();
    try {
      const bins = [1, 2, 3, 4, 5].map((v) => new Uint8Array(256 * 1024).fill(v));
      const writes = bins.map((bin, k) => writer.submit({ op: 'version', runDir, version: k + 1, files: { 'weights.bin': bin, 'state.json': `{"v":${k + 1}}` }, result: { version: k + 1 } }));
      // Transferred: the caller's copies are detached, the thread owns the bytes now.
      expect(bins[0].byteLength).toBe(0);
      await Promise.all(writes);
      expect(existsSync(versionDir(runDir, 1))).toBe(false); // pruned: three versions are kept
      for (const v of [3, 4, 5]) {
        const manifest = readVersion(runDir, v);
        expect(manifest?.meta.result, `version ${v}`).toEqual({ version: v });
        expect(readFileSync(join(versionDir(runDir, v), 'weights.bin')).every((b) => b === v)).toBe(true);
      }
    } finally {
      await writer.close();
    }
  });

  it('settled waits for a pending rollout write; a failed write rejects and the next one still runs', async () => {
    const dir = tempStateDir('writer-settle');
    const writer = new BackgroundWriter();
    const records = Array.from({ length: 2000 }, (_, k) => record(`1-${k}-0`));
    try {
      const file = rolloutFile(dir, 1);
      const pending = writer.submit({ op: 'rollouts', path: file, packed: packRollouts(records), metrics: { 'perf/rolloutSeconds': 0.25 } });
      await writer.settled(file);
      expect(readRollouts(file)).toEqual(records);
      expect(readRolloutMetrics(file)).toEqual({ 'perf/rolloutSeconds': 0.25 });
      await pending;

      writeFileSync(join(dir, 'blocked'), ''); // a file where the job needs a folder
      const blocked = join(dir, 'blocked', 'rollouts', '2.jsonl');
      const failed = writer.submit({ op: 'rollouts', path: blocked, packed: packRollouts(records), metrics: {} });
      const after = writer.submit({ op: 'rollouts', path: rolloutFile(dir, 3), packed: packRollouts(records.slice(0, 3)), metrics: {} });
      await expect(failed).rejects.toThrow(/ENOTDIR|EEXIST/);
      await writer.settled(blocked); // settles, error or not
      await after;
      expect(readRollouts(rolloutFile(dir, 3))).toHaveLength(3);
    } finally {
      await writer.close();
    }
  });
});

describe('rewards job', () => {
  it('writes one record per id from the distinct verdicts it is sent', async () => {
    const dir = tempStateDir('writer-rewards');
    const writer = new BackgroundWriter();
    const rollouts = [record('1-0-0'), { ...record('1-0-1'), completion: '18' }, record('1-0-2'), { ...record('1-0-3'), completion: '19 apples' }];
    try {
      const scored = scoreInline(mixFromEntries('sum', [{ verifier: 'exact-integer', weight: 1 }]), rollouts)!;
      expect(scored.status).toHaveLength(3); // '19' twice: scored once
      const ids = rollouts.map((r) => r.id);
      const file = rolloutFile(dir, 1);
      await writer.submit({ op: 'rewards', path: file, packed: { ...scored, ids: packStrings(ids) } });
      expect(readRewards(file)).toEqual(rewardRecords(ids, scored));
      expect(readRewards(file)?.map((r) => [r.id, r.status])).toEqual([['1-0-0', 'correct'], ['1-0-1', 'incorrect'], ['1-0-2', 'correct'], ['1-0-3', 'incorrect']]);
    } finally {
      await writer.close();
    }
  });
});

describe('packStrings', () => {
  it('gives back the same strings, empty ones and surrogate pairs included', () => {
    const strings = ['1-0-0', '', 'ünïcode 😀', '\u0000', '', 'x'];
    expect(unpackStrings(packStrings(strings))).toEqual(strings);
  });
});

describe('packRollouts', () => {
  it('unpacks to equal records, so the file written from them is byte for byte the same', () => {
    const records = [
      record('1-0-0'),
      { ...record('1-0-1'), completion: 'ünïcode \u0000 "quoted" 😀', tokens: [], logprobs: [], entropies: [], finished: false },
      { ...record('1-0-2'), completion: '', prompt: '' }, // empty strings keep their place
      { ...record('1-1-0'), group: 1, logprobs: [-1e-300, -0.1 - 0.2, -Number.MIN_VALUE], entropies: [0, 1 / 3, 2.5] },
    ];
    const again = unpackRollouts(packRollouts(records));
    expect(again).toEqual(records);
    expect(again.map((r) => JSON.stringify(r))).toEqual(records.map((r) => JSON.stringify(r)));
  });

  it('sends a prompt shared by consecutive records once, and a prompt that differs in any field in full', () => {
    const first = record('2-0-0');
    const group = [first, { ...first, id: '2-0-1', completion: '18', tokens: [6, 0], logprobs: [-0.5, -0.25], entropies: [1, 2] }];
    const differing = [
      { ...first, id: '2-1-0', group: 1, answer: '20' }, // same prompt tokens, another gold answer
      { ...first, id: '2-1-1', group: 1, answer: '20', promptTokens: [1, 2, 3, 4, 9] }, // equal strings, other tokens
      { ...first, id: '2-1-2', group: 1, answer: '20', promptTokens: [1, 2, 3, 4, 9], verifier: 'math' },
      // a code row's tests: built as the compute host builds records, which fixes the keys' order
      rolloutRecord({ ...first, id: '2-1-3', group: 1 }, { ...first, answer: '20', promptTokens: [1, 2, 3, 4, 9], verifier: 'math', tests: [{ assert: 'f(1) == 2' }], language: 'python' }),
    ];
    const records = [...group, ...differing];
    const packed = packRollouts(records);
    // id and completion per record; the prompt's five strings for every record but the group's second.
    expect(packed.strings).toHaveLength(2 * records.length + 5 * (records.length - 1));
    const again = unpackRollouts(packed);
    expect(again).toEqual(records);
    expect(again.map((r) => JSON.stringify(r))).toEqual(records.map((r) => JSON.stringify(r)));
  });
});
