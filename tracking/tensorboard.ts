/**
 * The TensorBoard tracker: every metrics.jsonl line of a run as scalars in an event file under
 * `<root>/<run-id>/` (root: CREDITFLOW_TENSORBOARD_DIR, else `<state>/tensorboard`), so
 * `tensorboard --logdir <root>` shows every run side by side. Tags are the metric names
 * (`reward/mean`, `eval/accuracy`: TensorBoard groups them by the part before the slash), the step
 * is the iteration (0 = the warm start), the wall time the line's.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { MetricsLine } from '../store/metrics-log.js';
import { fileVersionEvent, scalarsEvent, tfRecord } from './tfevents.js';
import type { Tracker, TrackerContext } from './tracker.js';

export function tensorboardRoot(home: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.CREDITFLOW_TENSORBOARD_DIR ?? join(home, 'tensorboard');
}

export class TensorBoardTracker implements Tracker {
  readonly name = 'tensorboard' as const;
  private file: string | null = null;

  constructor(private readonly root: string) {}

  /** One event file per writer (a worker that picks the run up later starts its own; TensorBoard reads them all). */
  private eventFile(runId: string): string {
    if (!this.file) {
      const dir = join(this.root, runId);
      mkdirSync(dir, { recursive: true });
      const now = Date.now() / 1000;
      this.file = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.creditflow`);
      appendFileSync(this.file, tfRecord(fileVersionEvent(now)));
    }
    return this.file;
  }

  async start(_ctx: TrackerContext): Promise<void> {}

  async log(ctx: TrackerContext, lines: MetricsLine[]): Promise<void> {
    const records: Uint8Array[] = [];
    for (const line of lines) {
      const scalars = Object.entries(line.metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)).map(([tag, value]) => ({ tag, value }));
      if (scalars.length) records.push(tfRecord(scalarsEvent(Date.parse(line.time) / 1000, line.iteration, scalars)));
    }
    if (records.length) appendFileSync(this.eventFile(ctx.runId), Buffer.concat(records));
  }

  async checkpoint(): Promise<void> {}

  async finish(): Promise<void> {}

  where(ctx: TrackerContext): string {
    return join(this.root, ctx.runId);
  }
}
