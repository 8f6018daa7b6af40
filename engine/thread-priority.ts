/**
 * Lower the scheduling priority of helper threads and processes, so that the compute host's thread
 * runs whenever it is ready.
 *
 * Why: on a small machine the host thread competes with its own helpers. On the 2-core machine the
 * demo was tuned on, the host thread spent 14-18 ms of each ~150-175 ms demo iteration in the
 * kernel's run queue (`/proc/thread-self/schedstat`), ready to run while a helper had its core: the
 * writer thread woken by a post took the host's core for its write (posting a rollout cost the host
 * 0.6-0.7 ms, the same message to a channel in its own thread ~0.1 ms), and the embedded Temporal
 * dev server took its share on every workflow task. With both lowered: 7-9 ms, and 0.8-2 ms less of
 * the host's own work an iteration. Helpers at a higher nice value still get every core the host
 * leaves idle; they only stop taking the host's. The host keeps the default priority (raising it
 * would need privileges).
 *
 * Linux only (a thread's id comes from /proc, and there `setpriority` applies to one thread);
 * elsewhere, and when the kernel refuses, nothing changes: this is a speed-up, never a requirement.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value of helpers: low enough that they do not preempt the host, high enough to keep up. */
export const HELPER_NICE = 10;

/** Lower the calling thread's priority to `nice` (Linux); false when it could not. */
export function lowerThisThread(nice = HELPER_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/thread-self -> "<pid>/task/<tid>": the thread id that setpriority takes for one thread.
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lower every thread of process `pid` to `nice` (Linux); false when it could not. Threads the
 * process starts later inherit the value from the thread that starts them.
 */
export function lowerProcess(pid: number, nice = HELPER_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), nice);
    return true;
  } catch {
    return false;
  }
}
