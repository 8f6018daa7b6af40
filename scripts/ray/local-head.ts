/**
 * A real single-node Ray cluster for the tests and the bench: `ray start --head --block` from the
 * project's venv (provision.ts), every port chosen free, its own temp folder, a small footprint
 * (`--num-cpus`, no GPUs, a small object store, no log monitor). The job API (the dashboard) listens
 * on loopback only; Ray's internal components use the machine's address whatever they are told (it
 * replaces 127.0.0.1 with it, services.resolve_ip_for_localhost).
 *
 * Stopped by its own process, never by `ray stop` (which stops every Ray on the machine): SIGINT
 * makes `ray start --block` shut its processes down at once (SIGTERM would first drain for 30 s);
 * any of its descendants still alive a few seconds later is killed by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RayDuplicateSubmissionError, RayJobClient } from '../../ray/client/index.js';
import { ensureRay } from './provision.js';

export interface LocalRayHead {
  /** The job API: http://127.0.0.1:<dashboard port>. */
  address: string;
  /** Where Ray writes its sessions and logs (removed by `stop`). */
  tempDir: string;
  /** Seconds the last start took until a job could run. */
  startSeconds: number;
  /** Stop every process of the head (running jobs included), keeping the ports and folder for `start`. */
  kill(): Promise<void>;
  /** Start again on the same ports (a new Ray session: the jobs of the old one are gone). */
  start(): Promise<void>;
  /** `kill`, then remove the temp folder. */
  stop(): Promise<void>;
}

export interface LocalRayHeadOptions {
  /** CPUs the head offers (each creditflow step asks for 1 by default). */
  numCpus?: number;
  /** Extra environment for the head (its jobs inherit it). */
  env?: Record<string, string>;
}

const WORKER_PORTS = 150;

/**
 * The first of the worker processes' ports. Ray refuses to start when one of its named ports falls in
 * this range, and the named ports come from the kernel's ephemeral range, so the worker range lies
 * below that (Linux: /proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default); two heads on
 * one machine get disjoint ranges by pid.
 */
function workerPortRangeStart(): number {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // not Linux: keep the usual bound
  }
  const low = 10000;
  const slots = Math.max(1, Math.floor((Math.min(ephemeralLow, 32768) - low) / WORKER_PORTS));
  return low + (process.pid % slots) * WORKER_PORTS;
}

/** `count` distinct ports free now, none in the worker range starting at `workerPorts`. */
async function freePorts(count: number, workerPorts: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (port < workerPorts || port >= workerPorts + WORKER_PORTS) ports.add(port);
  }
  return [...ports];
}

/** Pids of `root`'s descendants (Linux /proc; elsewhere none, and only `root` is signalled). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const entry of entries) {
    try {
      // The parent pid is the 2nd field after the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) for (const child of children.get(stack.pop()!) ?? []) stack.push(child), out.push(child);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startLocalRayHead(options: LocalRayHeadOptions = {}): Promise<LocalRayHead> {
  const ray = ensureRay();
  const tempDir = mkdtempSync(join(tmpdir(), 'cf-ray-'));
  const workerPorts = workerPortRangeStart();
  const [gcs, dashboard, client, agentHttp, agentGrpc, runtimeEnv, metrics, nodeManager, objectManager] = await freePorts(9, workerPorts);
  const ports = { gcs, dashboard, client, agentHttp, agentGrpc, runtimeEnv, metrics, nodeManager, objectManager };
  const args = [
    'start', '--head', '--block', '--port', String(ports.gcs),
    '--dashboard-host', '127.0.0.1', '--dashboard-port', String(ports.dashboard), '--include-dashboard', 'true',
    '--ray-client-server-port', String(ports.client), '--dashboard-agent-listen-port', String(ports.agentHttp),
    '--dashboard-agent-grpc-port', String(ports.agentGrpc), '--runtime-env-agent-port', String(ports.runtimeEnv),
    '--metrics-export-port', String(ports.metrics), '--node-manager-port', String(ports.nodeManager),
    '--object-manager-port', String(ports.objectManager), '--min-worker-port', String(workerPorts), '--max-worker-port', String(workerPorts + WORKER_PORTS - 1),
    '--num-cpus', String(options.numCpus ?? 1), '--num-gpus', '0', '--object-store-memory', String(80 * 10 ** 6),
    '--include-log-monitor', 'false', '--disable-usage-stats', '--temp-dir', tempDir,
  ];
  const env = {
    ...process.env,
    // Jobs run `node` from the head's PATH: the one running this.
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    RAY_USAGE_STATS_ENABLED: '0',
    ...options.env,
  };
  const address = `http://127.0.0.1:${ports.dashboard}`;
  let child: ChildProcess | null = null;

  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const tree = descendants(proc.pid!);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGINT');
    await Promise.race([exited, sleep(20_000)]);
    await sleep(500);
    for (const pid of [proc.pid!, ...tree]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  };

  const head: LocalRayHead = {
    address,
    tempDir,
    startSeconds: 0,
    kill,
    async start() {
      const started = performance.now();
      const log = openSync(join(tempDir, 'ray-start.log'), 'a');
      const proc = spawn(ray.ray, args, { env, stdio: ['ignore', log, log] });
      closeSync(log);
      child = proc;
      const failed = new Promise<never>((_, reject) => proc.once('exit', (code) => {
        reject(new Error(`ray start exited (${code}); see ${join(tempDir, 'ray-start.log')}:\n${readFileSync(join(tempDir, 'ray-start.log'), 'utf8').slice(-2000)}`));
      }));
      failed.catch(() => undefined);
      try {
        await Promise.race([failed, untilJobsRun(address)]);
      } catch (err) {
        await kill();
        throw err;
      }
      head.startSeconds = (performance.now() - started) / 1000;
    },
    async stop() {
      await kill();
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
  await head.start();
  return head;
}

/**
 * Until a job runs to the end: the API answers before the head's job agent is up, and the first
 * job starts the Python worker pool; later jobs (the ones measured) start warm.
 */
async function untilJobsRun(address: string, timeoutMs = 180_000): Promise<void> {
  const client = new RayJobClient({ address, retry: { attempts: 1 } });
  const deadline = Date.now() + timeoutMs;
  const id = `warm-up-${Date.now().toString(36)}`;
  let submitted = false;
  while (Date.now() < deadline) {
    try {
      if (!submitted) {
        await client.submitJob({ entrypoint: 'true', submission_id: id });
        submitted = true;
      }
      const job = await client.getJob(id);
      if (job.status === 'SUCCEEDED') {
        await client.deleteJob(id);
        return;
      }
      if (job.status === 'FAILED' || job.status === 'STOPPED') throw new Error(`the warm-up job ${job.status}: ${job.message}`);
    } catch (err) {
      if ((err as Error).message.startsWith('the warm-up job')) throw err;
      if (err instanceof RayDuplicateSubmissionError) submitted = true; // an earlier try got through
      // else: not up yet
    }
    await sleep(250);
  }
  throw new Error(`the Ray head at ${address} ran no job within ${timeoutMs / 1000} s`);
}
