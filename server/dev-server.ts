/**
 * The embedded Temporal dev server: `temporal server start-dev`, the real server with a SQLite file
 * (runs survive a restart) and the Web UI, with every search attribute creditflow uses registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEARCH_ATTRIBUTES } from '../workflows/shared.js';
import { lowerProcess } from '../engine/thread-priority.js';
import { ensureTemporalCli } from './temporal-cli.js';

export interface DevServerOptions {
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  /**
   * Frontend and UI ports. 'free' picks free ones, and picks again if another process takes the
   * port between the pick and the server's bind (two test files starting servers at once).
   */
  port?: number | 'free';
  uiPort?: number | 'free';
  /** No Web UI (tests that do not look at it). */
  headless?: boolean;
  namespace?: string;
  /** More namespaces to create at start (tests give each file its own, so workers never share queues). */
  extraNamespaces?: string[];
  /** Server settings; default DEV_SERVER_DYNAMIC_CONFIG (`{}` runs the dev server's own defaults). */
  dynamicConfig?: Readonly<Record<string, number>>;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const CLI_TYPE_NAMES = { KEYWORD: 'Keyword', DOUBLE: 'Double', INT: 'Int', BOOL: 'Bool', TEXT: 'Text', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' } as const;

/** `--search-attribute Name=Type` flags for every attribute in `SEARCH_ATTRIBUTES`. */
export function searchAttributeFlags(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`]);
}

/**
 * Server settings changed from the dev server's defaults, as `--dynamic-config-value` flags.
 *
 * `history.transferProcessorMaxPollRPS` (default 20): how often a history shard's transfer queue may
 * load new tasks, the tasks that hand each scheduled activity and workflow task to matching. At 20
 * loads a second, every step of a workflow that follows another within 50 ms waits for the limiter:
 * a run of short activities took ~100 ms a round trip, against ~15-20 ms at 1000 (measured with a
 * loop of no-op activities on this dev server). A production cluster spreads its workflows over
 * hundreds of shards; the dev server has one shard, so one run's steps all queue on it.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 1000,
};

export function portIsOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** A free TCP port chosen by the OS (for tests that run their own server). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The port opens before the frontend serves; wait until the namespace answers. */
async function waitUntilServing(address: string, namespace: string, deadline: number, exited: () => string | null): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  for (;;) {
    const exit = exited();
    if (exit !== null) throw new PortTakenOrExited(exit);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`temporal server at ${address} is not serving: ${(err as Error).message}`);
      await sleep(200);
    }
  }
}

/** The server process ended during start-up (its stderr says why, e.g. a port already in use). */
class PortTakenOrExited extends Error {
  override name = 'PortTakenOrExited';
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const free = options.port === 'free' || options.uiPort === 'free';
  for (let attempt = 1; ; attempt++) {
    const port = options.port === 'free' ? await freePort() : options.port ?? 7233;
    const uiPort = options.uiPort === 'free' ? await freePort() : options.uiPort ?? 8233;
    try {
      return await startOnce(options, port, uiPort);
    } catch (err) {
      if (!(free && err instanceof PortTakenOrExited && attempt < 3)) throw err;
    }
  }
}

async function startOnce(options: DevServerOptions, port: number, uiPort: number): Promise<DevServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const namespace = options.namespace ?? 'default';
  if (await portIsOpen(port)) throw new PortTakenOrExited(`port ${port} is already in use: is another Temporal server running? (use --address to connect to it)`);
  const cli = ensureTemporalCli(log);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'error', ...searchAttributeFlags()];
  for (const extra of options.extraNamespaces ?? []) args.push('--namespace', extra);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${value}`);
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));

  const child = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // The dev server yields the cores to a compute host on the same machine (engine/thread-priority.ts).
  if (child.pid) lowerProcess(child.pid);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const deadline = Date.now() + 60_000;
  while (!(await portIsOpen(port))) {
    if (exited) throw new PortTakenOrExited(`temporal server exited during start-up: ${stderr.trim() || `code ${child.exitCode}`}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server did not open port ${port} within 60 s: ${stderr.trim()}`);
    }
    await sleep(100);
  }
  // Again once it serves: threads started before the first call kept the default priority.
  if (child.pid) lowerProcess(child.pid);
  const exitReason = () => (exited ? `temporal server exited during start-up: ${stderr.trim() || `code ${child.exitCode}`}` : null);
  try {
    for (const ns of [namespace, ...(options.extraNamespaces ?? [])]) await waitUntilServing(`127.0.0.1:${port}`, ns, deadline, exitReason);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exitPromise;
    clearTimeout(killTimer);
  };
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: options.headless ? null : `http://localhost:${uiPort}`,
    namespace,
    process: child,
    stop,
  };
}
