/** For benchmarks that run the real product path: an in-memory dev server, a worker, a client. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { loadConfigFile } from '../configs/load.js';
import { ExperimentSchema, type ExperimentConfig } from '../configs/schema.js';
import { startDevServer } from '../server/dev-server.js';
import { startWorker, type RunningWorker } from '../worker/run-worker.js';

export interface BenchStack {
  client: Client;
  worker: RunningWorker;
  stateDir: string;
}

export async function withBenchStack<T>(fn: (stack: BenchStack) => Promise<T>, workerOptions: { runAhead?: boolean; backend?: string } = {}): Promise<T> {
  const server = await startDevServer({ port: 'free', headless: true, log: () => undefined });
  const stateDir = mkdtempSync(join(tmpdir(), 'cf-bench-'));
  try {
    const worker = await startWorker({ target: { address: server.address, namespace: 'default' }, stateDir, log: () => undefined, ...workerOptions });
    const connection = await Connection.connect({ address: server.address });
    try {
      return await fn({ client: new Client({ connection }), worker, stateDir });
    } finally {
      await connection.close();
      await worker.shutdown();
    }
  } finally {
    await server.stop();
  }
}

/** A config file of the project (default configs/demo.yaml) with overrides (one level deep per section), validated. */
export function demoConfig(overrides: Record<string, unknown> = {}, file = 'configs/demo.yaml'): ExperimentConfig {
  const demo = JSON.parse(JSON.stringify(loadConfigFile(fileURLToPath(new URL(`../${file}`, import.meta.url))))) as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) demo[k] = v && typeof v === 'object' ? { ...(demo[k] as object), ...v } : v;
  return ExperimentSchema.parse(demo);
}
