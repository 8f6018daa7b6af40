/**
 * The cost of one activity round trip on the embedded dev server (schedule, dispatch to a worker,
 * completion, the workflow task that schedules the next), timed as a loop of no-op activities on a
 * worker of their own queue. Run with the dev server's defaults and with creditflow's settings
 * (server/dev-server.ts DEV_SERVER_DYNAMIC_CONFIG), which is what the setting is for.
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startDevServer } from '../server/dev-server.js';

const WORKFLOW_QUEUE = 'round-trip-workflow';
const ACTIVITY_QUEUE = 'round-trip-activities';

/** Milliseconds per no-op activity round trip (median of `trials` loops of `count`). */
export async function activityRoundTripMs(dynamicConfig: Readonly<Record<string, number>> | undefined, count = 40, trials = 3): Promise<number> {
  const server = await startDevServer({ port: 'free', headless: true, log: () => undefined, dynamicConfig });
  try {
    const connection = await NativeConnection.connect({ address: server.address });
    const workflows = await Worker.create({ connection, taskQueue: WORKFLOW_QUEUE, workflowsPath: fileURLToPath(new URL('./round-trip-workflow.ts', import.meta.url)) });
    const activities = await Worker.create({ connection, taskQueue: ACTIVITY_QUEUE, activities: { async noop() {} } });
    const running = Promise.all([workflows.run(), activities.run()]);
    const clientConnection = await Connection.connect({ address: server.address });
    const client = new Client({ connection: clientConnection });
    const loop = () => client.workflow.execute('activityLoop', { taskQueue: WORKFLOW_QUEUE, workflowId: `round-trip-${Date.now()}-${Math.random()}`, args: [count] });
    await loop(); // warm-up: bundle load, first connections
    const times: number[] = [];
    for (let t = 0; t < trials; t++) {
      const started = performance.now();
      await loop();
      times.push((performance.now() - started) / count);
    }
    await clientConnection.close();
    workflows.shutdown();
    activities.shutdown();
    await running;
    await connection.close();
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  } finally {
    await server.stop();
  }
}
