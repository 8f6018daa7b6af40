/**
 * Orchestration overhead: the share of a demo iteration's wall time spent outside model work
 * (Temporal round trips, verifier scoring, file writes), measured on a real dev server with a real
 * worker running the demo config. Model work = the rollout, update and evaluate seconds the compute
 * host reports; wall = time between consecutive iterations' metrics lines.
 */
import { submitRun } from '../cli/submit-run.js';
import { readMetrics } from '../store/metrics-log.js';
import { demoConfig, withBenchStack } from './local-stack.js';
import type { BenchRow } from './row.js';

export async function benchOrchestration(iterations = 20): Promise<BenchRow[]> {
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
    return [
      { name: 'iteration wall time (mean)', value: wall / n, unit: 's', note: `${iterations} iterations of the demo config, backend ${worker.backend.name}` },
      { name: 'model work per iteration (mean)', value: model / n, unit: 's', note: 'rollout + update (+ evaluate)' },
      { name: 'orchestration overhead share', value: 100 * (1 - model / wall), unit: '%', note: 'target <= 3%' },
    ];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await benchOrchestration()) console.log(`${row.name}: ${row.value.toFixed(3)} ${row.unit} ${row.note ?? ''}`);
}
