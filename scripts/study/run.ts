/**
 * `npm run study [-- --seeds 1,2,3 --out docs]`: each method against its baseline over the same seeds
 * at an equal budget, on the built-in arithmetic task (exact-answer reward), then the claims table
 * (scripts/study/claims.ts) as markdown, JSON and SVG.
 *
 * How it runs: its own Temporal dev server (in memory, free port) and an in-process worker, on a
 * state folder of its own (`--state`, default a fresh temp folder), so it never touches a user's
 * runs. The RL arms run through the sweep workflow, one sweep per arm over the seeds; the preference
 * arms (the sweep workflow starts RL trials only) are submitted as preference runs, one per
 * (arm, seed). At most `--parallel` runs at once.
 *
 * Equal budget, per seed, for every arm of a family:
 *  - the same warm start: the same base config and seed, so the same SFT steps on the same rows
 *    from the same initialisation (each run recomputes it bit for bit);
 *  - RL: the same iterations, prompts per iteration and completions per prompt (SPO-tree: a 2×2 tree,
 *    4 leaves = groupSize; SPO-chain additionally samples its Monte Carlo continuations, reported in
 *    the JSON as `spo/continuations`), the same optimizer and learning rate;
 *  - preference: the same pairs, steps, batch size, β and learning rate (cDPO's positive and negative
 *    models and T-REG's scoring pass are the methods' own extra compute).
 * No per-method tuning: one learning rate per family, the configs' defaults otherwise (the documented
 * equal search is the empty one). The result is final greedy held-out accuracy.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { PreferenceExperimentSchema } from '../../configs/preference-schema.js';
import { submitPreferenceRun } from '../../cli/submit-run.js';
import { startDevServer } from '../../server/dev-server.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { startSweep } from '../../sweeps/start.js';
import { startWorker } from '../../worker/run-worker.js';
import { leaderboardQuery } from '../../workflows/shared.js';
import { claimRows, markdownTable, svgPlot } from './claims.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const SEEDS = (args.get('seeds') ?? '1,2,3').split(',').map(Number);
const OUT = resolve(args.get('out') ?? 'docs');
const STATE = resolve(args.get('state') ?? mkdtempSync(join(tmpdir(), 'creditflow-study-')));
const PARALLEL = Number(args.get('parallel') ?? 3);
const ITERATIONS = Number(args.get('iterations') ?? 12);
const PREF_STEPS = Number(args.get('prefSteps') ?? 30);

// 1-digit problems: 200 in all, about 20% held out by hash (the data schema's default).
const DATA = { source: 'arithmetic', maxDigits: 1, trainSize: 120, evalSize: 32 };
const MODEL = { dModel: 32, nLayers: 2, nHeads: 2, dFf: 64, maxSeqLen: 16 };
// Every run of a seed gets the same warm start: SFT until 30% of training prompts come out right
// (checked every 50 steps; the step count is an upper bound), so the exact-answer reward has signal.
const WARM = { steps: 1000, batchSize: 32, warmupSteps: 10, untilAccuracy: 0.3 };

/** The RL arms: objective sections over one base (same lr, rollout, iterations). */
const RL_ARMS: Record<string, Record<string, unknown>> = {
  grpo: { name: 'ppo-clip', aggregation: 'seq-mean-token-mean', clipHigh: 0.2 },
  dapo: { name: 'ppo-clip', aggregation: 'token-mean', clipHigh: 0.28 },
  'forking-top20': { name: 'forking-tokens', aggregation: 'token-mean', clipHigh: 0.28, forking: { rho: 0.2, side: 'top' } },
  'forking-bottom80': { name: 'forking-tokens', aggregation: 'token-mean', clipHigh: 0.28, forking: { rho: 0.8, side: 'bottom' } },
  'spo-chain': { name: 'spo', clipHigh: 0.2, spo: { samples: 2, cutpointInterval: 2 } },
  'spo-tree': { name: 'spo', clipHigh: 0.2, spo: { mode: 'tree', tree: { branching: [2, 2], segmentTokens: 1 } } },
};

/** The preference arms, one β and learning rate for all. */
const PREF_ARMS: Record<string, Record<string, unknown>> = {
  dpo: { name: 'dpo', beta: 1 },
  'critical-token-dpo': { name: 'critical-token-dpo', beta: 1, auxiliary: { steps: 60 } },
  'sparse-po': { name: 'sparse-po', beta: 1, mask: 'learned' },
  't-reg': { name: 't-reg', beta: 1 },
};

function rlBase(arm: string): Record<string, unknown> {
  return {
    experiment: `study-${arm}`, data: DATA, model: MODEL, warmStart: WARM,
    rollout: { promptsPerIteration: 8, groupSize: 4, maxNewTokens: 4 },
    optimizer: { lr: 2e-3 }, objective: RL_ARMS[arm],
    run: { iterations: ITERATIONS, evalEvery: ITERATIONS, checkpointEvery: ITERATIONS },
    sweep: { seeds: SEEDS, concurrency: PARALLEL, metric: 'eval/accuracy', pollSeconds: 2 },
  };
}

function prefConfig(arm: string, seed: number) {
  return PreferenceExperimentSchema.parse({
    kind: 'preference', experiment: `study-${arm}`, seed, data: DATA, model: MODEL, warmStart: WARM,
    objective: PREF_ARMS[arm], optimizer: { lr: 3e-4, batchSize: 32 },
    run: { steps: PREF_STEPS, evalEvery: PREF_STEPS, checkpointEvery: PREF_STEPS },
  });
}

/** Final held-out accuracy, and the other numbers of a run's last evaluation and training lines. */
function outcome(dir: string): { accuracy: number; metrics: Record<string, number> } {
  const lines = readMetrics(dir);
  const lastEval = lines.filter((l) => l.phase === 'eval').at(-1);
  const continuations = lines.reduce((a, l) => a + (l.metrics['spo/continuations'] ?? 0), 0);
  return { accuracy: lastEval?.metrics['eval/accuracy'] ?? NaN, metrics: { ...(lastEval?.metrics ?? {}), 'spo/continuations': continuations } };
}

async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) {
      const k = next++;
      out[k] = await jobs[k]();
    }
  }));
  return out;
}

async function main(): Promise<void> {
  const started = Date.now();
  const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${s}`);
  const server = await startDevServer({ port: 'free', headless: true, log: () => undefined });
  const worker = await startWorker({ target: { address: server.address, namespace: server.namespace }, stateDir: STATE, log: () => undefined });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const results: Record<string, Record<number, number>> = {};
  const details: Record<string, Record<number, Record<string, number>>> = {};
  const record = (arm: string, seed: number, dir: string) => {
    const o = outcome(dir);
    (results[arm] ??= {})[seed] = o.accuracy;
    (details[arm] ??= {})[seed] = o.metrics;
    log(`${arm} seed ${seed}: held-out accuracy ${o.accuracy}`);
  };
  try {
    log(`state ${STATE}; seeds ${SEEDS.join(',')}; ${ITERATIONS} RL iterations, ${PREF_STEPS} preference steps`);
    // RL arms: one sweep per arm over the seeds, one after another (each runs its seeds in parallel).
    for (const arm of Object.keys(RL_ARMS)) {
      const loaded = parseSweepYaml(stringify(rlBase(arm)), `study:${arm}`);
      const handle = await startSweep(client, loaded, `study-${arm}-${started.toString(36)}`);
      await handle.result();
      const board = await handle.query(leaderboardQuery);
      for (const t of board.trials) record(arm, Number(t.params.seed), t.runDir ?? runDir(t.id, STATE));
    }
    // Preference arms: every (arm, seed) run, `PARALLEL` at a time.
    const jobs = Object.keys(PREF_ARMS).flatMap((arm) => SEEDS.map((seed) => async () => {
      const id = `study-${arm}-s${seed}-${started.toString(36)}`;
      const handle = await submitPreferenceRun(client, prefConfig(arm, seed), id);
      // A failed run counts as missing (NaN), not as a crash of the study.
      const result = (await handle.result().catch((err: Error) => { log(`${id} failed: ${err.message}`); return {}; })) as { runDir?: string };
      record(arm, seed, result.runDir ?? runDir(id, STATE));
    }));
    await pool(jobs, PARALLEL);
  } finally {
    await worker.shutdown();
    await connection.close();
    await server.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const rows = claimRows(results);
  mkdirSync(OUT, { recursive: true });
  const summary = {
    date: new Date().toISOString(), seconds, seeds: SEEDS, iterations: ITERATIONS, preferenceSteps: PREF_STEPS,
    rlArms: RL_ARMS, preferenceArms: PREF_ARMS, results, details,
    claims: rows.map((r) => ({ ...r.claim, method: r.method, baseline: r.baseline, diffs: r.diffs, diff: r.diff, verdict: r.verdict })),
  };
  writeFileSync(join(OUT, 'study.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(OUT, 'study.svg'), svgPlot(results, `Final held-out accuracy, ${SEEDS.length} seeds (dots) and mean ± std (bar)`));
  writeFileSync(join(OUT, 'study-table.md'), `${markdownTable(rows)}\n`);
  log(`done in ${seconds.toFixed(0)} s\n\n${markdownTable(rows)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
