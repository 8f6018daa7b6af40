/**
 * The local stack behind `creditflow dev` and `creditflow demo`: the Temporal dev server with its
 * SQLite file in the state folder, and a worker in this process.
 */
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../server/dev-server.js';
import { stateDir } from '../store/paths.js';
import { startWorker, type RunningWorker } from '../worker/run-worker.js';

export interface LocalStack {
  server: DevServer;
  worker: RunningWorker;
  stop(): Promise<void>;
}

export async function startLocalStack(options: { port?: number; uiPort?: number; backend?: string } = {}): Promise<LocalStack> {
  const home = stateDir();
  const server = await startDevServer({ dbFile: join(home, 'temporal.sqlite'), port: options.port, uiPort: options.uiPort });
  console.log(`Temporal dev server on ${server.address} (state in ${home})`);
  console.log(`Web UI: ${server.uiUrl}`);
  let worker: RunningWorker;
  try {
    worker = await startWorker({ target: { address: server.address, namespace: server.namespace }, stateDir: home, backend: options.backend });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    server,
    worker,
    async stop() {
      await worker.shutdown().catch((err: Error) => console.error(`worker shutdown: ${err.message}`));
      await server.stop();
    },
  };
}
