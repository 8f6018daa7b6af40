/**
 * Orchestration overhead: the share of a demo iteration's wall time spent outside model work
 * (Temporal round trips, verifier scoring, file writes), measured on a real dev server with a real
 * worker running the demo config, once with the compute host's run-ahead (engine/run-ahead.ts, the
 * default) and once without, one after the other in the same run; on wasm and, when it is installed
 * (`npm run native`), on the native backend (CREDITFLOW_BACKEND picks one instead).
 *
 * The host's own work between model steps (scoring completions, batching, snapshotting weights for
 * the writer thread, scavenging) is ~3.5-5.9 ms an iteration on either backend, so the share is
 * larger where model work is faster: ~1.1-1.2% of wasm's ~0.30-0.36 s iteration, ~3.9-4.1% of
 * native's ~0.12-0.15 s (2026-11-22, three runs). The 3% target is met on wasm, not on native:
 * docs/orchestration-overhead.md says why.
 *
 * Model work = the rollout, update and evaluate seconds the compute host records, over every RL
 * iteration. Wall = from the warm start's completion to the last evaluation's completion (the
 * run always evaluates its last iteration), both read from the workflow's history. The window
 * must span the whole RL phase: with run-ahead the host works up to two iterations ahead of the
 * workflow, so timing the gaps between the workflow's metrics lines would count model work done
 * before the first line as if it fell inside the window (that under-reported the overhead, down to
 * below zero once the host thread stopped writing).
 *
 * Then the round trip of one no-op activity on the dev server with its own defaults and with
 * creditflow's settings (bench/round-trip.ts): the floor the workflow's steps stand on.
 */
import type { Client } from '@temporalio/client';
import { submitRun } from '../cli/submit-run.js';
import { readMetrics } from '../store/metrics-log.js';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../server/dev-server.js';
import { demoConfig, withBenchStack } from './local-stack.js';
import { activityRoundTripMs } from './round-trip.js';
import type { BenchRow } from './row.js';

interface Measured { wall: number; model: number; iterations: number; backend: string }

/** Completion times (ms) of the run's warmStart and of its last evaluate activity, from its history. */
export async function rlPhaseBounds(client: Client, workflowId: string): Promise<{ start: number; end: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const typeOf = new Map<number, string>();
  let start = NaN;
  let end = NaN;
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(Number(e.eventId), scheduled.activityType?.name ?? '');
    const completed = e.activityTaskCompletedEventAttributes;
    if (!completed) continue;
    const type = typeOf.get(Number(completed.scheduledEventId));
    if (type === 'warmStart') start = ms(e.eventTime);
    if (type === 'evaluate') end = ms(e.eventTime);
  }
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error(`workflow ${workflowId}: no warmStart or evaluate completion in its history (did it continue as new?)`);
  return { start, end };
}

async function measure(runAhead: boolean, backend: string): Promise<Measured> {
  // The demo's own RL phase (80 iterations, evaluations and checkpoints every 20): a fixed cost per
  // run, like the workflow catching up with a host that has finished, is spread as in the demo. The
  // warm start is cut to 100 steps; it is outside the measured window. The run is shorter than
  // run.continueAsNewEvery (100), so its whole history is one execution's.
  const config = demoConfig({ experiment: 'bench-orchestration', warmStart: { steps: 100 } });
  const iterations = config.run.iterations;
  return withBenchStack(async ({ client, worker }) => {
    const handle = await submitRun(client, config);
    const result = await handle.result();
    const { start, end } = await rlPhaseBounds(client, handle.workflowId);
    let model = 0;
    for (const line of readMetrics(result.runDir)) {
      const m = line.metrics;
      if (line.phase === 'train') model += (m['perf/rolloutSeconds'] ?? 0) + (m['perf/updateSeconds'] ?? 0);
      if (line.phase === 'eval') model += m['perf/evalSeconds'] ?? 0;
    }
    return { wall: (end - start) / 1000 / iterations, model: model / iterations, iterations, backend: worker.backend.name };
  }, { runAhead, backend });
}

export async function benchOrchestration(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const backends = process.env.CREDITFLOW_BACKEND ? [process.env.CREDITFLOW_BACKEND] : ['wasm', 'tensorflow'];
  for (const backend of backends) {
    for (const runAhead of [false, true]) {
      const mode = `${runAhead ? 'run-ahead (default)' : 'no run-ahead'}, ${backend}`;
      let m: Measured;
      try {
        m = await measure(runAhead, backend);
      } catch (err) {
        // The native backend is opt-in: without it, say so in the table and go on.
        if (backend !== 'tensorflow' || process.env.CREDITFLOW_BACKEND) throw err;
        rows.push({ name: `orchestration overhead share, ${backend}`, value: NaN, unit: '%', note: `not measured: ${(err as Error).message.split('\n')[0]}` });
        break;
      }
      rows.push(
        { name: `iteration wall time, ${mode}`, value: m.wall, unit: 's', note: `RL phase of the demo (${m.iterations} iterations) / iterations, backend ${m.backend}` },
        { name: `model work per iteration, ${mode}`, value: m.model, unit: 's', note: 'rollout + update + evaluate, as the compute host times them' },
        { name: `orchestration overhead share, ${mode}`, value: 100 * (1 - m.model / m.wall), unit: '%', note: 'target <= 3%' },
        // The same in milliseconds: about equal on both backends, while the model work is not.
        { name: `time outside model work per iteration, ${mode}`, value: 1000 * (m.wall - m.model), unit: 'ms', note: 'wall - model work' },
      );
    }
  }
  // After the demo runs, whose worker installs the SDK runtime with creditflow's log level.
  const stock = await activityRoundTripMs({});
  const tuned = await activityRoundTripMs(DEV_SERVER_DYNAMIC_CONFIG);
  rows.push(
    { name: 'no-op activity round trip, dev server defaults', value: stock, unit: 'ms', note: 'median of 3 loops of 40 (bench/round-trip.ts)' },
    { name: 'no-op activity round trip, creditflow dev server settings', value: tuned, unit: 'ms', note: Object.entries(DEV_SERVER_DYNAMIC_CONFIG).map(([k, v]) => `${k}=${v}`).join(', ') },
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await benchOrchestration()) console.log(`${row.name}: ${row.value.toFixed(3)} ${row.unit} ${row.note ?? ''}`);
}
