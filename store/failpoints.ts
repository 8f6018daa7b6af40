/**
 * Crash injection for durability tests. `CREDITFLOW_FAILPOINT=<name>:<n>` makes the process SIGKILL
 * itself the n-th time it reaches `failpoint(<name>)`, so a test can kill a worker at an exact
 * point (mid-update, mid-checkpoint-write) instead of hoping a timer lands there. Unset, a
 * failpoint is one environment lookup.
 */
import { writeSync } from 'node:fs';

const hits = new Map<string, number>();

function armed(): { name: string; at: number } | null {
  const spec = process.env.CREDITFLOW_FAILPOINT;
  if (!spec) return null;
  const cut = spec.lastIndexOf(':');
  return { name: spec.slice(0, cut), at: Number(spec.slice(cut + 1)) };
}

export function failpoint(name: string): void {
  const spec = armed();
  if (!spec || spec.name !== name) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count === spec.at) {
    // Synchronous write to fd 2: process.stderr of a worker thread is flushed by the main thread, too late.
    writeSync(2, `failpoint ${name}:${count} reached: killing process ${process.pid}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
