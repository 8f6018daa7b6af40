/** A worker as a real separate process (`creditflow worker`), for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT } from './harness.js';

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the worker says it is polling. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/** `args` are extra `creditflow worker` flags, such as `--no-run-ahead`. */
export function spawnWorker(address: string, namespace: string, stateDir: string, env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'worker', '--address', address, '--namespace', namespace, '--backend', 'cpu', ...args], {
    cwd: PROJECT,
    env: { ...process.env, CREDITFLOW_HOME: stateDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(' polling ')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, ready, exited };
}
