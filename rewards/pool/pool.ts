/**
 * A pool of long-lived worker threads for the synchronous verifiers.
 *
 * - Tasks go out in chunks (fewer messages), and each worker answers task by task in order, so the
 *   pool always knows which task is running: the head of that worker's in-flight list.
 * - Each worker has one watchdog timer, re-armed at every answer. When the head task exceeds its
 *   timeout the thread is terminated (`Worker.terminate()` stops even a synchronous loop or a
 *   catastrophic regex), the head gets `timeout`, the rest of its chunk goes back to the front of
 *   the queue, and a fresh worker takes the slot. A hung check costs only its own timeout.
 * - A worker that dies (out of memory under `resourceLimits`, a crash) fails only its head task
 *   with `error` and the reason.
 * - Idle workers are unref'd, so a pool never keeps a CLI process alive.
 */
import { Worker } from 'node:worker_threads';
import type { Verdict } from '../types.js';
import type { SyncSpec } from '../registry.js';
import type { PoolReply, PoolTask } from './protocol.js';

const MAX_START_FAILURES = 3;
const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

interface Pending {
  task: PoolTask;
  timeoutMs: number;
  resolve: (v: Verdict) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  inflight: Pending[];
  timer: NodeJS.Timeout | null;
  dead: boolean;
}

export interface PoolOptions {
  size: number;
  /** Tasks per message; larger means fewer messages, smaller means less re-queueing after a kill. */
  chunk?: number;
  /** Old-generation heap cap of each worker thread, in MB. */
  maxHeapMb?: number;
}

export class VerifierPool {
  private readonly slots: Slot[] = [];
  /** A started, idle worker that takes over at once when a slot's worker is killed (startup costs ~1 s). */
  private spare: Slot | null = null;
  private readonly queue: Pending[] = [];
  private nextKey = 0;
  private closed = false;
  private readonly chunk: number;
  private readonly maxHeapMb: number;
  /** Workers started so far (replacements included); a test and the metrics can read it. */
  started = 0;
  /** Workers that died before reporting ready, in a row; past {@link MAX_START_FAILURES} the pool gives up. */
  private startFailures = 0;
  private broken: string | null = null;

  constructor(opts: PoolOptions) {
    this.chunk = opts.chunk ?? 32;
    this.maxHeapMb = opts.maxHeapMb ?? 512;
    this.resize(opts.size);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Grow to at least `size` workers (the pool never shrinks while open). */
  resize(size: number): void {
    while (this.slots.length < Math.max(1, size)) this.slots.push(this.spawn());
  }

  run(spec: SyncSpec, completion: string, gold: string, timeoutMs: number, truncated = false): Promise<Verdict> {
    if (this.closed) return Promise.resolve({ status: 'error', score: 0, reason: 'verifier pool closed', ms: 0 });
    if (this.broken) return Promise.resolve({ status: 'error', score: 0, reason: this.broken, ms: 0 });
    return new Promise((resolve) => {
      const task: PoolTask = { key: this.nextKey++, spec, completion, gold };
      if (truncated) task.truncated = true;
      this.queue.push({ task, timeoutMs, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve({ status: 'error', score: 0, reason: 'verifier pool closed', ms: 0 });
    const all = this.spare ? [...this.slots, this.spare] : this.slots;
    this.spare = null;
    await Promise.all(all.map(async (s) => {
      s.dead = true;
      if (s.timer) clearTimeout(s.timer);
      for (const p of s.inflight.splice(0)) p.resolve({ status: 'error', score: 0, reason: 'verifier pool closed', ms: 0 });
      await s.worker.terminate();
    }));
  }

  private spawn(): Slot {
    this.started++;
    const worker = new Worker(BOOTSTRAP, {
      workerData: { entry: ENTRY },
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false, inflight: [], timer: null, dead: false };
    worker.unref();
    worker.on('message', (m: PoolReply) => this.onMessage(slot, m));
    worker.on('error', (e) => this.onDeath(slot, `worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.onDeath(slot, `worker exited with code ${code}`));
    return slot;
  }

  private onMessage(slot: Slot, m: PoolReply): void {
    if (slot.dead) return;
    if (slot === this.spare) {
      if ('ready' in m) slot.ready = true;
      return;
    }
    if ('ready' in m) {
      slot.ready = true;
      this.startFailures = 0;
      // The spare starts once the working slots are up, so that it does not slow their start.
      if (!this.spare && !this.closed && this.slots.every((s) => s.ready)) this.spare = this.spawn();
      this.pump();
      return;
    }
    const head = slot.inflight.shift();
    if (!head || head.task.key !== m.key) {
      this.onDeath(slot, 'worker protocol error: out-of-order reply');
      return;
    }
    head.resolve(m.verdict);
    this.arm(slot);
    this.pump();
  }

  /** (Re)start the watchdog for the head task of `slot`, or stop it when the slot is idle. */
  private arm(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const head = slot.inflight[0];
    if (!head) {
      slot.worker.unref();
      return;
    }
    slot.worker.ref();
    slot.timer = setTimeout(() => this.onTimeout(slot), head.timeoutMs);
  }

  private onTimeout(slot: Slot): void {
    const head = slot.inflight.shift();
    if (head) head.resolve({ status: 'timeout', score: 0, reason: `killed after ${head.timeoutMs} ms (worker thread terminated)`, ms: head.timeoutMs });
    this.replace(slot);
  }

  private onDeath(slot: Slot, reason: string): void {
    if (slot.dead) return;
    if (slot === this.spare) {
      slot.dead = true;
      this.spare = this.closed ? null : this.spawn();
      return;
    }
    const head = slot.inflight.shift();
    if (head) head.resolve({ status: 'error', score: 0, reason, ms: 0 });
    if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      // Workers cannot even start (bad install, heap cap too small): fail fast instead of respawning forever.
      this.broken = `verifier workers fail to start: ${reason}`;
      slot.dead = true;
      for (const p of this.queue.splice(0)) p.resolve({ status: 'error', score: 0, reason: this.broken, ms: 0 });
      void this.close();
      return;
    }
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    slot.dead = true;
    if (slot.timer) clearTimeout(slot.timer);
    // Tasks behind the head never started: back to the front of the queue, in order.
    this.queue.unshift(...slot.inflight.splice(0));
    void slot.worker.terminate();
    const k = this.slots.indexOf(slot);
    if (k >= 0 && !this.closed) {
      // Promote the spare (started, or at least starting) rather than paying a whole start-up.
      const spare = this.spare;
      this.spare = null;
      this.slots[k] = spare && !spare.dead ? spare : this.spawn();
      if (this.slots.every((x) => x.ready)) this.spare = this.spawn();
      if (this.queue.length > 0) this.slots[k].worker.ref();
      this.pump();
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      // Keep a worker at most one chunk ahead, so that answers stream while the next chunk waits.
      if (!slot.ready || slot.dead || slot.inflight.length > this.chunk / 2) continue;
      // Small batches are spread over all workers rather than given whole to the first one.
      const n = Math.max(1, Math.min(this.chunk, Math.ceil(this.queue.length / this.slots.length)));
      const batch = this.queue.splice(0, n);
      const wasIdle = slot.inflight.length === 0;
      slot.inflight.push(...batch);
      slot.worker.postMessage({ tasks: batch.map((p) => p.task) });
      if (wasIdle) this.arm(slot);
    }
    // Slots still starting keep the process alive while work waits for them.
    for (const slot of this.slots) if (!slot.ready && this.queue.length > 0) slot.worker.ref();
  }
}
