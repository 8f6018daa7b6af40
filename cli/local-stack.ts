/**
 * The local stack behind `creditflow dev` and `creditflow demo`: the Temporal dev server with its
 * SQLite file in the state folder (held by one dev server at a time: server/state-lock.ts), and a
 * worker in this process.
 */
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../server/dev-server.js';
import { acquireStateLock } from '../server/state-lock.js';
import { stateDir } from '../store/paths.js';
import type { TrackerName } from '../tracking/index.js';
import { startWorker, type RunningWorker } from '../worker/run-worker.js';

export interface LocalStack {
  server: DevServer;
  worker: RunningWorker;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  port?: number;
  uiPort?: number;
  backend?: string;
  /** Width (dModel) of the model the stack will run (picks the native backend's thread count). */
  modelWidth?: number;
  /** The worker's memory for resident runs (its --memory-budget-mb; default 2048). */
  memoryBudgetMb?: number;
  defaultTracking?: TrackerName[];
  /** `creditflow dev`, `creditflow demo`: named in the lock, so a refused second server says who holds the folder. */
  command: string;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const home = stateDir();
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const lock = acquireStateLock(home, { address: `127.0.0.1:${port}`, uiUrl: `http://localhost:${uiPort}`, command: options.command });
  let server: DevServer;
  try {
    server = await startDevServer({ dbFile: join(home, 'temporal.sqlite'), port, uiPort });
  } catch (err) {
    lock.release();
    throw err;
  }
  console.log(`Temporal dev server on ${server.address} (state in ${home})`);
  console.log(`Web UI: ${server.uiUrl}`);
  let worker: RunningWorker;
  try {
    worker = await startWorker({
      target: { address: server.address, namespace: server.namespace }, stateDir: home, backend: options.backend, modelWidth: options.modelWidth, memoryBudgetMb: options.memoryBudgetMb, defaultTracking: options.defaultTracking,
    });
  } catch (err) {
    await server.stop();
    lock.release();
    throw err;
  }
  return {
    server,
    worker,
    async stop() {
      await worker.shutdown().catch((err: Error) => console.error(`worker shutdown: ${err.message}`));
      await server.stop();
      lock.release();
    },
  };
}
