/**
 * Bring your own task, on the real dev server: RL runs on a user's JSONL files.
 *
 *  - three data sets: math rows scored by a reward mix (with per-row verifier overrides), Python
 *    rows scored by their unit tests, and a file whose columns have other names (held-out rows in a
 *    second file). Each runs to the end on a worker, and again on a worker SIGKILLed mid-run and
 *    replaced: the final checkpoints' weights are identical, and every iteration is recorded once.
 *  - a data file with ten different bad lines is rejected before any compute, every line named:
 *    by `creditflow submit` before it connects, and by the run's data step (no weights written).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run as submitCommand } from '../../cli/commands/submit.js';
import { submitRun } from '../../cli/submit-run.js';
import { ExperimentSchema, type ExperimentConfig } from '../../configs/schema.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { checkpointDir } from '../../store/weight-versions.js';
import { startWorker } from '../../worker/run-worker.js';
import { tempStateDir, testAddress, testClient, testTarget, uniqueId } from '../support/harness.js';
import { BAD_ROWS, BAD_ROWS_SECTIONS, matchesBadRowsProblems } from '../support/bad-rows.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const NS = 'data-sets';
const ITERATIONS = 3;
const files = tempStateDir('data-files');
const jsonl = (name: string, rows: unknown[]) => {
  const path = join(files, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
};

/** The learning tiny fixture's model and budget, on a data file. */
const tiny = (experiment: string, sections: Record<string, unknown>): ExperimentConfig => ExperimentSchema.parse({
  experiment, seed: 7,
  model: { dModel: 32, nLayers: 1, nHeads: 2, dFf: 64, maxSeqLen: 32 },
  warmStart: { steps: 60, batchSize: 16, warmupSteps: 5 },
  rollout: { promptsPerIteration: 4, groupSize: 4, maxNewTokens: 8 },
  run: { iterations: ITERATIONS, evalEvery: ITERATIONS, checkpointEvery: ITERATIONS },
  timeouts: { heartbeatSeconds: 5, pinnedScheduleToStartSeconds: 3 },
  ...sections,
});

const sums = Array.from({ length: 40 }, (_, i) => ({ a: i % 9 + 1, b: (i * 7) % 9 + 1 }));
const CONFIGS: Record<string, ExperimentConfig> = {
  // Math rows with a reward mix: the answer (weight 1) and a plain-integer format bonus (0.2);
  // every fifth row is scored by exact-integer alone, as its own `verifier` says.
  math: tiny('it-data-math', {
    data: {
      source: 'file', heldOut: { fraction: 0.2, seed: 1 },
      path: jsonl('math.jsonl', sums.map(({ a, b }, i) => ({
        id: `m${i}`, prompt: `${a}+${b}=`, answer: String(a + b), completion: String(a + b), ...(i % 5 === 0 ? { verifier: 'exact-integer' } : {}),
      }))),
    },
    rewards: { mode: 'sum', mix: [{ verifier: 'math', weight: 1 }, { verifier: 'format', pattern: 'integer', weight: 0.2, name: 'integer' }] },
  }),
  // Python rows scored by their unit tests in the sandbox. A model this small and briefly trained
  // writes little valid Python: the length shaping term keeps rewards varied (it still counts when
  // the code errors), so that updates take real steps.
  code: tiny('it-data-code', {
    data: {
      source: 'file', heldOut: { fraction: 0.2, seed: 1 },
      path: jsonl('code.jsonl', Array.from({ length: 12 }, (_, k) => ({
        id: `c${k}`, prompt: `x+${k}\n`, completion: `def f(x):return x+${k}`, tests: [{ assert: `assert f(1) == ${1 + k}` }, { assert: `assert f(5) == ${5 + k}` }],
      }))),
    },
    model: { dModel: 32, nLayers: 1, nHeads: 2, dFf: 64, maxSeqLen: 32 },
    warmStart: { steps: 30, batchSize: 16, warmupSteps: 5 },
    rollout: { promptsPerIteration: 2, groupSize: 4, maxNewTokens: 16 },
    rewards: { mode: 'sum', mix: [{ verifier: 'code', weight: 1 }, { verifier: 'length', maxChars: 8, softMargin: 10, weight: 0.2 }] },
  }),
  // A file in another shape: ids, prompts, answers and solutions under their own names, nested too.
  mapped: tiny('it-data-mapped', {
    data: {
      source: 'file',
      path: jsonl('mapped-train.jsonl', sums.slice(0, 32).map(({ a, b }, i) => ({ qid: 100 + i, question: `${a}+${b}=`, label: { value: a + b }, worked: String(a + b) }))),
      heldOut: { path: jsonl('mapped-test.jsonl', sums.slice(32).map(({ a, b }, i) => ({ qid: 200 + i, question: `${b}+${a}=`, label: { value: a + b }, worked: String(a + b) }))) },
      fields: { id: 'qid', prompt: 'question', answer: 'label.value', completion: 'worked' },
    },
  }),
};

const started: WorkerProcess[] = [];
afterAll(() => {
  for (const w of started) w.child.kill('SIGKILL');
});

/** Weight hashes of a run's final checkpoint, and its train lines. */
function finalState(dir: string) {
  const manifest = readVerifiedManifest(checkpointDir(dir, ITERATIONS));
  expect(manifest, `final checkpoint of ${dir} verifies`).not.toBeNull();
  const weights = Object.fromEntries(Object.entries(manifest!.files).filter(([f]) => f.startsWith('weights')).map(([f, e]) => [f, e.sha256]));
  return { weights, train: readMetrics(dir).filter((l) => l.phase === 'train') };
}

/** Every config run to the end on one worker process, first armed with `failpoint` (then killed there and replaced). */
async function runAll(failpoint?: string) {
  const home = tempStateDir('data-sets');
  const client = await testClient(NS);
  const spawn = (env: Record<string, string> = {}) => {
    const w = spawnWorker(testAddress(), NS, home, env);
    started.push(w);
    return w;
  };
  const first = spawn(failpoint ? { CREDITFLOW_FAILPOINT: failpoint } : {});
  await first.ready;
  const handles = await Promise.all(Object.values(CONFIGS).map((c) => submitRun(client, c, uniqueId(c.experiment))));
  let killed = false;
  let last = first;
  if (failpoint) {
    await first.exited;
    killed = first.child.signalCode === 'SIGKILL' && first.output().includes(`failpoint ${failpoint} reached`);
    last = spawn();
    await last.ready;
  }
  const results = await Promise.all(handles.map((h) => h.result()));
  last.child.kill('SIGTERM');
  await last.exited;
  await client.connection.close();
  return { killed, states: Object.fromEntries(Object.keys(CONFIGS).map((name, k) => [name, finalState(results[k].runDir)])) };
}

describe('RL runs on users\' data files', () => {
  it('math with a reward mix, code with unit tests, mapped column names: each resumed after a SIGKILL to identical final weights', async () => {
    const baseline = await runAll();
    for (const [name, state] of Object.entries(baseline.states)) {
      expect(state.train.map((l) => l.iteration), name).toEqual([1, 2, 3]);
      expect(state.train.reduce((a, l) => a + (l.metrics['update/steps'] ?? 0), 0), `${name}: updates took optimizer steps`).toBeGreaterThan(0);
    }
    // Every reward of each mix reports its own rates.
    const math = baseline.states.math.train[0].metrics;
    for (const key of ['reward/math/mean', 'reward/math/correct', 'reward/integer/mean', 'reward/exact-integer/correct', 'reward/error', 'reward/timeout', 'rollout/truncated']) expect(math[key], key).toBeTypeOf('number');
    const code = baseline.states.code.train[0].metrics;
    for (const key of ['reward/code/mean', 'reward/code/error', 'reward/length/mean']) expect(code[key], key).toBeTypeOf('number');

    // Killed at the fifth update step taken on the first worker (the three runs share it), replaced.
    const resumed = await runAll('update:stepped:5');
    expect(resumed.killed, 'the failpoint was reached').toBe(true);
    for (const name of Object.keys(CONFIGS)) {
      expect(resumed.states[name].train.map((l) => l.iteration), name).toEqual([1, 2, 3]);
      expect(resumed.states[name].weights, `${name}: weights after the kill`).toEqual(baseline.states[name].weights);
    }
  }, 900_000);

  it('a data file with ten different bad lines is rejected before any compute, naming all ten', async () => {
    const bad = join(files, 'bad.jsonl');
    writeFileSync(bad, BAD_ROWS);
    const config = tiny('it-data-bad', { data: { source: 'file', path: bad }, ...BAD_ROWS_SECTIONS });

    // creditflow submit: rejected before it connects (the address is nobody's).
    const yaml = join(files, 'bad.yaml');
    writeFileSync(yaml, `experiment: it-data-bad\ndata:\n  source: file\n  path: bad.jsonl\n${stringify(BAD_ROWS_SECTIONS)}`);
    const cli = await submitCommand([yaml, '--address', '127.0.0.1:1']).then(() => null, (err: Error) => err);
    expect(cli?.name).toBe('DataError');
    const cliProblems = cli!.message.split('\n').slice(1).map((l) => l.trim().replace(/^- /, ''));
    expect(matchesBadRowsProblems(cliProblems), cliProblems.join('\n')).toBe(true);

    // A run submitted anyway fails in its data step, for good, with the same lines; nothing computed.
    const home = tempStateDir('data-bad');
    const client = await testClient(NS);
    const worker = await startWorker({ target: testTarget(NS), stateDir: home, backend: 'cpu', log: () => undefined });
    try {
      const id = uniqueId('bad');
      const failure = await (await submitRun(client, config, id)).result().then(() => null, (err: Error) => err);
      expect(failure, 'the run failed').not.toBeNull();
      // The workflow's failure wraps the activity's, which carries the data step's message.
      const messages: string[] = [];
      for (let e: { message?: string; cause?: unknown } | undefined = failure!; e; e = e.cause as typeof e) messages.push(String(e.message));
      const message = messages.join('\n');
      for (const line of cliProblems) expect(message).toContain(line);
      expect(messages.some((m) => m.includes('DataError')) || message.includes('invalid data')).toBe(true);
      // Nothing was computed or written: no run folder, so no rows, weights or rollouts.
      expect(existsSync(runDir(id, home))).toBe(false);
    } finally {
      await worker.shutdown();
      await client.connection.close();
    }
  }, 120_000);
});
