/**
 * Ray placement overhead: the demo config's RL phase on a plain worker and with
 * `compute.placement: ray` on a local Ray head (scripts/ray/local-head.ts, 1 CPU), one after the
 * other in the same run, same backend (wasm, or CREDITFLOW_BACKEND).
 *
 * Wall = from the warm start's completion to the last evaluation's completion, from the workflow's
 * history (bench/orchestration.ts), per model step; the warm start is cut to 100 steps and the RL
 * phase to CREDITFLOW_BENCH_RAY_ITERATIONS iterations (default 10), evaluated and checkpointed at
 * the end. On Ray every model step is a job of its own: Ray starts a job supervisor (a Python
 * worker process), which starts `node bin/creditflow.mjs ray step`, which loads TensorFlow.js and
 * the run's newest weights from disk. The worker's compute host does none of that (it keeps the
 * model resident and, with run-ahead, computes the next steps before they are asked for). Most of
 * that overhead is fixed per step (loading the weights grows with the model): it is what a step
 * placed on Ray must be long enough to amortise.
 */
import { submitRun } from '../cli/submit-run.js';
import { RayJobClient } from '../ray/client/index.js';
import { readMetrics } from '../store/metrics-log.js';
import { startLocalRayHead } from '../scripts/ray/local-head.js';
import { demoConfig, withBenchStack } from './local-stack.js';
import { rlPhaseBounds } from './orchestration.js';
import type { BenchRow } from './row.js';

interface Measured { wallPerIteration: number; modelPerIteration: number; stepsPerIteration: number; runId: string }

async function measure(backend: string, compute: Record<string, unknown>, runAhead = true): Promise<Measured> {
  const iterations = Number(process.env.CREDITFLOW_BENCH_RAY_ITERATIONS ?? 10);
  const config = demoConfig({
    experiment: 'bench-ray', warmStart: { steps: 100 }, run: { iterations, evalEvery: iterations, checkpointEvery: iterations }, compute,
  });
  return withBenchStack(async ({ client }) => {
    const handle = await submitRun(client, config);
    const result = await handle.result();
    const { start, end } = await rlPhaseBounds(client, handle.workflowId);
    let model = 0;
    let steps = 0; // a rollout and an update an iteration, and each evaluation
    for (const line of readMetrics(result.runDir)) {
      const m = line.metrics;
      if (line.phase === 'train') {
        model += (m['perf/rolloutSeconds'] ?? 0) + (m['perf/updateSeconds'] ?? 0);
        steps += 2;
      }
      if (line.phase === 'eval') {
        model += m['perf/evalSeconds'] ?? 0;
        steps += 1;
      }
    }
    return { wallPerIteration: (end - start) / 1000 / iterations, modelPerIteration: model / iterations, stepsPerIteration: steps / iterations, runId: handle.workflowId };
  }, { backend, runAhead });
}

export async function benchRay(): Promise<BenchRow[]> {
  const backend = process.env.CREDITFLOW_BACKEND ?? 'wasm';
  const head = await startLocalRayHead({ numCpus: 1 });
  try {
    const plain = await measure(backend, {});
    const plainNoAhead = await measure(backend, {}, false);
    const onRay = await measure(backend, { placement: 'ray', address: head.address });
    const jobs = (await new RayJobClient(head.address).listJobs()).filter((j) => j.metadata?.runId === onRay.runId && j.metadata.op !== 'warmStart');
    const jobSeconds = jobs.reduce((a, j) => a + ((j.end_time ?? 0) - (j.start_time ?? 0)) / 1000, 0) / Math.max(jobs.length, 1);
    const perStep = (m: Measured) => m.wallPerIteration / m.stepsPerIteration;
    const load = (await import('node:os')).loadavg()[0].toFixed(1);
    const note = `${backend}, demo model, ${onRay.stepsPerIteration.toFixed(1)} model steps an iteration; load average ${load} at the end`;
    return [
      { name: 'plain worker (run-ahead): wall per model step', value: perStep(plain), unit: 's', note },
      { name: 'plain worker (no run-ahead): wall per model step', value: perStep(plainNoAhead), unit: 's', note },
      { name: 'ray placement: wall per model step', value: perStep(onRay), unit: 's', note },
      { name: 'ray overhead per step vs plain worker (run-ahead)', value: perStep(onRay) - perStep(plain), unit: 's', note: 'what a step placed on Ray costs beyond the same step on a worker' },
      { name: 'ray overhead per step vs plain worker (no run-ahead)', value: perStep(onRay) - perStep(plainNoAhead), unit: 's' },
      { name: 'ray: mean job duration (submitted to ended)', value: jobSeconds, unit: 's', note: `${jobs.length} jobs; the step's own model work is ${(onRay.modelPerIteration / onRay.stepsPerIteration).toFixed(3)} s of it` },
      { name: 'ray: model work per step (same on both)', value: onRay.modelPerIteration / onRay.stepsPerIteration, unit: 's', note: `plain worker: ${(plain.modelPerIteration / plain.stepsPerIteration).toFixed(3)} s` },
      { name: 'local ray head start (until a job runs)', value: head.startSeconds, unit: 's' },
    ];
  } finally {
    await head.stop();
  }
}
