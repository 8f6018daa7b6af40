/** A one-line progress display: a bar on a terminal, plain lines elsewhere (CI logs, pipes). */
import type { RunProgress } from '../workflows/shared.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '  –  ' : `${(100 * x).toFixed(1)}%`);

export function progressLine(p: RunProgress, width = 24): string {
  const done = p.totalIterations ? p.iteration / p.totalIterations : 0;
  const filled = Math.round(done * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const reward = p.latestMetrics['reward/mean'];
  // A preference run has no reward; its batch's implicit-reward margin says how it is doing.
  const margin = p.latestMetrics['update/margin'];
  const signal = reward === undefined && margin !== undefined ? ` margin ${margin.toFixed(3)}` : ` reward ${reward === undefined ? '  –  ' : reward.toFixed(3)}`;
  return `${bar} ${String(p.iteration).padStart(String(p.totalIterations).length)}/${p.totalIterations} ${p.status.padEnd(9)}`
    + signal
    + ` · acc ${pct(p.latestEvaluation?.accuracy)} (warm ${pct(p.warmStartAccuracy)}, best ${pct(p.bestEvaluation?.accuracy)})`;
}

export class ProgressDisplay {
  private last = '';
  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  update(line: string): void {
    if (line === this.last) return;
    this.last = line;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(`${line}\n`);
  }

  finish(): void {
    if (this.stream.isTTY && this.last) this.stream.write('\n');
  }
}
