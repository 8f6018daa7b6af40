/**
 * Where the compute host's steps write their outputs (store/write-jobs.ts).
 *
 * `BackgroundWriter` hands each write to a thread of its own, so that serialising, hashing and
 * writing a weights version (~7 ms a demo iteration on wasm, all on the host thread before) overlap
 * the next step's model work instead of delaying it: the host thread only takes the snapshot. Jobs
 * run one at a time in submission order, so a version's pruning never races the next version's
 * write. A step that reports a result to the workflow first waits for its write (`Promise`
 * returned by `submit`), so "the activity completed" still means "its output is on disk"; a reader
 * of a path waits for a pending write to it (`settled`) before looking.
 *
 * `InlineWriter` does the same writes on the calling thread (scripts, and tests of the sessions).
 */
import { Worker } from 'node:worker_threads';
import { runWriteJob, transferables, writeTarget, type WriteJob } from '../store/write-jobs.js';

export interface StepWriter {
  /** Resolves once the job's files are in place; rejects with the write's error. */
  submit(job: WriteJob): Promise<void>;
  /** Resolves when no submitted write to `path` is pending (whether it succeeded or not). */
  settled(path: string): Promise<void>;
  close(): Promise<void>;
}

export class InlineWriter implements StepWriter {
  async submit(job: WriteJob): Promise<void> {
    runWriteJob(job);
  }

  async settled(): Promise<void> {}

  async close(): Promise<void> {}
}

interface WriterReply {
  id: number;
  error?: { message: string; name: string };
}

export class BackgroundWriter implements StepWriter {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private readonly pending = new Map<string, Promise<void>>();

  submit(job: WriteJob): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    if (this.waiting.size === 1) worker.ref(); // keep the process up while a write is on its way
    worker.postMessage({ id, job }, transferables(job));
    const path = writeTarget(job);
    this.pending.set(path, done);
    const forget = () => {
      if (this.pending.get(path) === done) this.pending.delete(path);
    };
    done.then(forget, forget);
    return done;
  }

  settled(path: string): Promise<void> {
    const done = this.pending.get(path);
    return done ? done.then(() => undefined, () => undefined) : Promise.resolve();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    // host-boot registers tsx in the new thread, then imports the entry.
    const worker = new Worker(new URL('./host-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./writer-thread.ts', import.meta.url).href },
    });
    worker.on('message', (reply: WriterReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref(); // an idle writer never keeps the process alive
      if (reply.error) w.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
      else w.resolve();
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined; // the next write starts a new thread
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`background writer thread exited (code ${code})`)));
    return worker;
  }
}
