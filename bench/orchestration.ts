/**
 * Orchestration overhead: the share of a demo iteration's wall time spent outside model work
 * (Temporal round trips, verifier scoring, file writes), measured on a real dev server with a real
 * worker running the demo config. Model work = the rollout, update and evaluate seconds the compute
 * host reports; wall = time between consecutive iterations' metrics lines.
 */
import { Client, Connection } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../configs/load.js';
import { ExperimentSchema } from '../configs/schema.js';
import { submitRun } from '../cli/submit-run.js';
import { freePort, startDevServer } from '../server/dev-server.js';
import { readMetrics } from '../store/metrics-log.js';
import { startWorker } from '../worker/run-worker.js';
import type { BenchRow } from './row.js';

export async function benchOrchestration(iterations = 20): Promise<BenchRow[]> {
  const demo = loadConfigFile(fileURLToPath(new URL('../configs/demo.yaml', import.meta.url)));
  const config = ExperimentSchema.parse({
    ...JSON.parse(JSON.stringify(demo)),
    experiment: 'bench-orchestration',
    warmStart: { ...demo.warmStart, steps: 100 },
    run: { ...demo.run, iterations, evalEvery: 5, checkpointEvery: 10 },
  });
  const server = await startDevServer({ port: await freePort(), headless: true, log: () => undefined });
  const home = mkdtempSync(join(tmpdir(), 'cf-bench-orch-'));
  const worker = await startWorker({ target: { address: server.address, namespace: 'default' }, stateDir: home, log: () => undefined });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
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
    return [
      { name: 'iteration wall time (mean)', value: wall / (train.length - 1), unit: 's', note: `${iterations} iterations of the demo config, backend ${worker.backend.name}` },
      { name: 'model work per iteration (mean)', value: model / (train.length - 1), unit: 's', note: 'rollout + update (+ evaluate)' },
      { name: 'orchestration overhead share', value: 100 * (1 - model / wall), unit: '%', note: 'target <= 3%' },
    ];
  } finally {
    await connection.close();
    await worker.shutdown();
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await benchOrchestration()) console.log(`${row.name}: ${row.value.toFixed(3)} ${row.unit} ${row.note ?? ''}`);
}
