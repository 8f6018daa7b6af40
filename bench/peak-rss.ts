/**
 * The process's peak resident set size since the last reset, from Linux's VmHWM: writing 5 to
 * /proc/self/clear_refs resets the high-water mark to the current RSS (proc(5)), so a phase's
 * peak can be read apart from what loading the model took before it. Linux only.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

/** VmHWM in MiB. */
export function peakRssMb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  if (!line) throw new Error('peakRssMb: no VmHWM line in /proc/self/status (Linux only)');
  return Number(line.replace(/[^0-9]/g, '')) / 1024;
}
