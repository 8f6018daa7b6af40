/**
 * Orchestration overhead: the share of a demo iteration's wall time spent outside model work
 * (Temporal round trips, verifier scoring, file writes), measured on a real dev server with a real
 * worker running the demo config, once with the compute host's run-ahead (engine/run-ahead.ts, the
 * default) and once without, one after the other in the same run. Model work = the rollout, update
 * and evaluate seconds the compute host records; wall = time between consecutive iterations'
 * metrics lines.
 */
import { submitRun } from '../cli/submit-run.js';
import { readMetrics } from '../store/metrics-log.js';
import { demoConfig, withBenchStack } from './local-stack.js';
import type { BenchRow } from './row.js';

interface Measured { wall: number; model: number; backend: string }

async function measure(iterations: number, runAhead: boolean): Promise<Measured> {
  const config = demoConfig({ experiment: 'bench-orchestration', warmStart: { steps: 100 }, run: { iterations, evalEvery: 5, checkpointEvery: 10 } });
  return withBenchStack(async ({ client, worker }) => {
    const result = await (await submitRun(client, config)).result();
    const lines = readMetrics(result.runDir);
    const train = lines.filter((l) => l.phase === 'train');
    const evalSeconds = new Map(lines.filter((l) => l.phase === 'eval').map((l) => [l.iteration, l.metrics['perf/evalSeconds'] ?? 0]));
    let wall = 0;
    let model = 0;
    for (let i = 1; i < train.length; i++) {
      wall += (Date.parse(train[i].time) - Date.parse(train[i - 1].time)) / 1000;
      const m = train[i].metrics;
      model += (m['perf/rolloutSeconds'] ?? 0) + (m['perf/updateSeconds'] ?? 0) + (evalSeconds.get(train[i - 1].iteration) ?? 0);
    }
    const n = train.length - 1;
    return { wall: wall / n, model: model / n, backend: worker.backend.name };
  }, { runAhead });
}

export async function benchOrchestration(iterations = 20): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const runAhead of [false, true]) {
    const m = await measure(iterations, runAhead);
    const mode = runAhead ? 'run-ahead (default)' : 'no run-ahead';
    rows.push(
      { name: `iteration wall time, ${mode}`, value: m.wall, unit: 's', note: `mean of ${iterations} demo iterations, backend ${m.backend}` },
      { name: `model work per iteration, ${mode}`, value: m.model, unit: 's', note: 'rollout + update (+ evaluate)' },
      { name: `orchestration overhead share, ${mode}`, value: 100 * (1 - m.model / m.wall), unit: '%', note: 'target <= 3%' },
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await benchOrchestration()) console.log(`${row.name}: ${row.value.toFixed(3)} ${row.unit} ${row.note ?? ''}`);
}
