/**
 * The main-thread handle of a worker's compute host: a long-lived worker thread that owns all tensor
 * work and keeps each run's model resident between activities. The Node event loop of the worker
 * (Temporal polling, heartbeats) never waits on a tensor op.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { setNativeEnvDefaults } from './native-env.js';
import type { HostNotice, HostOp, HostReply, HostRequest } from './host-protocol.js';

export class ComputeHostError extends Error {
  constructor(message: string, public readonly errorType: string, hostStack?: string) {
    super(message);
    this.name = errorType;
    if (hostStack) this.stack = `${errorType}: ${message}\n    [compute host]${hostStack.split('\n').slice(1).join('\n')}`;
  }
}

export interface ComputeHostOptions {
  /** Memory for resident runs (weights + optimizer); least recently used runs are evicted beyond it. */
  memoryBudgetMb?: number;
  /** Backend to force (else CREDITFLOW_BACKEND, else the best available). */
  backend?: string;
  /** Compute a run's next steps before the workflow asks for them (run-ahead.ts). Default true. */
  runAhead?: boolean;
  /** Width (dModel) of the largest model this host will run: picks libtensorflow's intra-op threads (native-env.ts). */
  modelWidth?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (details: Record<string, number | string>) => void;
}

/**
 * The host thread's young generation, at most (V8's default allows 16 MB semi-spaces, 48 MB in all).
 * Model steps allocate fast (tfjs makes a few objects per kernel, ~1000 kernels a step) and much of
 * it is still live at a scavenge (the autodiff tape, a rollout's records), so with the default each
 * scavenge copied megabytes: 2-12 ms, ~6 ms a demo iteration on the native backend. Room for 64 MB
 * semi-spaces halves the scavenge time (496 -> 232 ms over 80 iterations, measured with a gc
 * PerformanceObserver on the host thread); 48 MB changed nothing. More changes nothing either: V8
 * caps a semi-space at 64 MB (576 MB gave the same 20-23 scavenges over the RL phase).
 */
const HOST_YOUNG_GENERATION_MB = 192;

/**
 * No incremental marking started from V8's own task: marking then starts only once the old
 * generation reaches its limit. On the host thread the task kept starting it with 60-90 MB of the
 * limit still free (`node --trace-incremental-marking`: "Start (task)"), and on the wasm backend,
 * whose kernels allocate ~3x as much as native's, that meant a full collection every iteration or
 * two: 53-85 mark-compacts over the demo's 80 RL iterations (490-660 ms of pauses, plus the marking
 * steps), against 8-10 with this flag (31-44 ms), and a 100-step warm start plus the RL phase took
 * 31-35 s instead of 37-38 s (`node --trace-gc-nvp`); the wasm demo 89-94 s instead of 95-99 s.
 * Native made no mark-compacts either way. V8 flags are per process, so this holds for the whole
 * worker process; it changes when V8 collects, never what.
 */
const V8_FLAGS = '--no-incremental-marking-task';

export class ComputeHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(options: ComputeHostOptions = {}) {
    setNativeEnvDefaults(options.modelWidth);
    setFlagsFromString(V8_FLAGS);
    this.worker = new Worker(new URL('./host-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./host-thread.ts', import.meta.url).href, options },
      resourceLimits: { maxYoungGenerationSizeMb: HOST_YOUNG_GENERATION_MB },
    });
    this.worker.on('message', (reply: HostReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new Error(`compute host exited (code ${code})`));
    });
  }

  private onReply(reply: HostReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.kind === 'progress') {
      pending.onProgress?.(reply.details);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.kind === 'result') pending.resolve(reply.value);
    else pending.reject(new ComputeHostError(reply.message, reply.errorType, reply.stack));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  call<T>(op: HostOp, args: unknown, onProgress?: (details: Record<string, number | string>) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('compute host is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      const request: HostRequest = { id, op, args };
      this.worker.postMessage(request);
    });
  }

  /** Tell the host that step `op` of a run was answered without it (see HostNotice). */
  answered(op: HostOp, args: { runId: string; iteration: number } & Record<string, unknown>): void {
    if (this.closed) return;
    const notice: HostNotice = { notice: 'answered', args: { ...args, op } };
    this.worker.postMessage(notice);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('compute host closed'));
    await this.worker.terminate();
  }
}
