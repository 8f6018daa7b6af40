/**
 * A creditflow worker: one process serving the `cpu` queue (workflow tasks, verifiers, bookkeeping),
 * the shared `compute` queue (claiming runs) and its own pinned compute queue (model work for the
 * runs it claimed). All model work goes to one compute host thread per worker.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { createComputeActivities, createCpuActivities } from '../activities/index.js';
import { createPreferenceComputeActivities, createPreferenceCpuActivities } from '../activities/preference.js';
import { RayPlacement } from '../activities/ray-placement.js';
import { ComputeHost } from '../engine/compute-host.js';
import { sharedPool, shutdownVerifiers } from '../rewards/index.js';
import { stateDir } from '../store/paths.js';
import { createSweepActivities } from '../sweeps/activities.js';
import { activityMetrics, CreditflowMetrics, freeLoopbackPort, metricsPortFrom, startMetricsEndpoint } from '../monitoring/index.js';
import { parseTrackerList, trackingInterceptor, TrackingHub, type TrackerName } from '../tracking/index.js';
import { pinnedQueueName, TASK_QUEUES } from '../workflows/shared.js';
import type { TemporalTarget } from './connection.js';

export interface RunningWorker {
  identity: string;
  pinnedQueue: string;
  backend: { name: string; reason: string };
  /** Resolves when every poller has stopped (after `shutdown()` or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export interface WorkerOptionsIn {
  target: TemporalTarget;
  stateDir?: string;
  backend?: string;
  memoryBudgetMb?: number;
  /** Let the compute host compute a run's next steps before they are asked for (default true). */
  runAhead?: boolean;
  /** Width (dModel) of the largest model this worker will run; picks the native backend's intra-op threads. */
  modelWidth?: number;
  log?: (line: string) => void;
  /** Serve Prometheus metrics on this port (default: CREDITFLOW_METRICS_PORT; unset = off). */
  metricsPort?: number;
  /** Experiment trackers for runs whose config has no `tracking` (default: CREDITFLOW_TRACKING, e.g. `tensorboard,mlflow`). */
  defaultTracking?: TrackerName[];
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let runtimeInstalled = false;

/**
 * The SDK logs every poller state change at INFO; keep workers quiet unless asked. With
 * `sdkMetricsBind`, the SDK's Prometheus exporter listens there; returns whether it does.
 */
function installRuntime(level: LogLevel, sdkMetricsBind?: string): boolean {
  if (runtimeInstalled) return false;
  runtimeInstalled = true;
  try {
    // Our claim and pinned queues carry activities only, by design: drop the SDK's notice about it.
    const quiet = (entry: { message: string }) => entry.message.startsWith('No workflows registered');
    const stderr = new DefaultLogger(level);
    Runtime.install({
      logger: new DefaultLogger(level, (entry) => { if (!quiet(entry)) stderr.log(entry.level, entry.message, entry.meta); }),
      telemetryOptions: sdkMetricsBind ? { metrics: { prometheus: { bindAddress: sdkMetricsBind } } } : undefined,
    });
    return sdkMetricsBind !== undefined;
  } catch {
    // Already installed by the embedding program (tests, another worker in this process).
    return false;
  }
}

export async function startWorker(options: WorkerOptionsIn): Promise<RunningWorker> {
  const log = options.log ?? ((line: string) => console.log(line));
  const metricsPort = options.metricsPort ?? metricsPortFrom();
  const sdkMetricsPort = metricsPort === undefined ? undefined : await freeLoopbackPort();
  const sdkMetrics = installRuntime((process.env.CREDITFLOW_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'WARN',
    sdkMetricsPort === undefined ? undefined : `127.0.0.1:${sdkMetricsPort}`);
  const monitor = metricsPort === undefined ? null : new CreditflowMetrics();
  const endpoint = monitor && metricsPort !== undefined
    ? await startMetricsEndpoint({ port: metricsPort, metrics: monitor, sdkMetricsUrl: sdkMetrics ? `http://127.0.0.1:${sdkMetricsPort}/metrics` : undefined })
    : null;
  if (endpoint) log(`prometheus metrics on :${endpoint.port}/metrics${sdkMetrics ? ' (creditflow + temporal sdk)' : ' (creditflow; sdk runtime was installed earlier)'}`);
  const home = options.stateDir ?? stateDir();
  const identity = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const pinnedQueue = pinnedQueueName(identity);

  // Whatever has started is stopped again if a later part fails (a forced backend that is missing,
  // an unreachable server): otherwise its threads keep the process alive after the error.
  let host: ComputeHost | undefined;
  let connection: NativeConnection | undefined;
  const defaultTracking = options.defaultTracking?.length ? options.defaultTracking : parseTrackerList(process.env.CREDITFLOW_TRACKING);
  const tracking = new TrackingHub({ home, defaultTracking, log });
  const release = async () => {
    await tracking.close();
    await host?.close();
    await shutdownVerifiers();
    await connection?.close();
    await endpoint?.close();
  };
  try {
    // Start the verifier threads now (they load mathjs before reporting ready), not in the first score.
    sharedPool();
    host = new ComputeHost({ backend: options.backend, memoryBudgetMb: options.memoryBudgetMb, runAhead: options.runAhead, modelWidth: options.modelWidth });
    const backend = await host.call<{ name: string; reason: string }>('backend', {});
    log(`compute backend: ${backend.name} (${backend.reason})`);

    connection = await NativeConnection.connect({
      address: options.target.address,
      tls: options.target.tls,
      apiKey: options.target.apiKey,
    });
    const common: Partial<WorkerOptions> = {
      connection, namespace: options.target.namespace, identity, interceptors: monitor ? { activity: [activityMetrics(monitor)] } : undefined,
      // Heartbeat details reach the server at least this often: `creditflow watch` shows the warm
      // start's SFT steps from them (by default the SDK sends them at most every 0.8 × heartbeat timeout).
      maxHeartbeatThrottleInterval: '2 seconds',
    };
    // Steps of runs placed on Ray run there on the backend this worker was told to use, if any.
    const ray = new RayPlacement({ backend: options.backend });
    const compute = createComputeActivities({ host, pinnedQueue, stateDir: home, ray });
    const cpuWorker = await Worker.create({
      ...common,
      taskQueue: TASK_QUEUES.cpu,
      workflowsPath: WORKFLOWS_PATH,
      activities: { ...createCpuActivities({ stateDir: home }), ...createSweepActivities(), ...createPreferenceCpuActivities({ stateDir: home }) },
    } as WorkerOptions);
    const claimWorker = await Worker.create({
      ...common,
      taskQueue: TASK_QUEUES.compute,
      activities: { claimWorker: compute.claimWorker },
      maxConcurrentActivityTaskExecutions: 4,
    } as WorkerOptions);
    const pinnedWorker = await Worker.create({
      ...common,
      taskQueue: pinnedQueue,
      activities: { ...compute, ...createPreferenceComputeActivities({ host, stateDir: home, ray }) },
      // One compute host thread: model activities queue behind each other there anyway.
      maxConcurrentActivityTaskExecutions: 4,
      // Every model step of a run comes here: its trackers hear of it after each one.
      interceptors: { activity: [...(monitor ? [activityMetrics(monitor)] : []), trackingInterceptor(tracking)] },
    } as WorkerOptions);
    const workers = [cpuWorker, claimWorker, pinnedWorker];
    log(`worker ${identity} polling ${TASK_QUEUES.cpu}, ${TASK_QUEUES.compute}, ${pinnedQueue} on ${options.target.address}/${options.target.namespace}`);

    const done = Promise.all(workers.map((w) => w.run())).then(release);
    return {
      identity,
      pinnedQueue,
      backend,
      done,
      async shutdown() {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await done;
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}
