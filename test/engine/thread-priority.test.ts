/**
 * Helpers yield the cores to the compute host (engine/thread-priority.ts): a thread lowers only
 * itself, and a process is lowered in all its threads. Linux only, where the functions act.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { HELPER_NICE, lowerProcess } from '../../engine/thread-priority.js';

/** The nice value of one thread, from /proc (field 19 of stat; the command name may hold spaces). */
const niceOf = (pid: number | string, tid: number | string) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);

describe.runIf(process.platform === 'linux')('thread priority', () => {
  it('a thread that lowers itself leaves the rest of its process as it was', async () => {
    const before = new Map(readdirSync(`/proc/${process.pid}/task`).map((tid) => [tid, niceOf(process.pid, tid)]));
    const worker = new Worker(new URL('../../engine/host-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('../support/lower-this-thread.ts', import.meta.url).href },
    });
    const { lowered, tid } = await new Promise<{ lowered: boolean; tid: string }>((resolve) => worker.once('message', resolve));
    expect(lowered).toBe(true);
    expect(niceOf(process.pid, tid)).toBe(HELPER_NICE);
    for (const [other, nice] of before) if (other !== tid) expect(niceOf(process.pid, other)).toBe(nice);
    await worker.terminate();
  });

  it('lowers every thread of another process', async () => {
    // A Node child has several threads from the start (V8's and libuv's).
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const tids = readdirSync(`/proc/${child.pid}/task`);
      expect(tids.length).toBeGreaterThan(1);
      expect(lowerProcess(child.pid!)).toBe(true);
      for (const tid of tids) expect(niceOf(child.pid!, tid)).toBe(HELPER_NICE);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('says so when there is no such process', () => {
    expect(lowerProcess(2 ** 22 + 12345)).toBe(false);
  });
});
