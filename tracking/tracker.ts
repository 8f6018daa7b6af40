/** What every experiment tracker does for a run; tracking/sync.ts calls them in order and retries. */
import type { MetricsLine } from '../store/metrics-log.js';
import type { TrackerName } from './names.js';

export interface TrackerContext {
  runId: string;
  runDir: string;
  experiment: string;
  /** The run's resolved config, as stored in its config.yaml. */
  config: Record<string, unknown>;
  /** Tracker state kept in the run folder between calls and workers (e.g. MLflow's run id). */
  state: Record<string, unknown>;
}

export interface Tracker {
  readonly name: TrackerName;
  /** Idempotent set-up (MLflow: find or create the experiment and the run, log the params). */
  start(ctx: TrackerContext): Promise<void>;
  /** New metrics lines, in order; each line is sent once (the cursor is kept by the caller). */
  log(ctx: TrackerContext, lines: MetricsLine[]): Promise<void>;
  /** The run's newest checkpoint folder. */
  checkpoint(ctx: TrackerContext, path: string): Promise<void>;
  /** The run has finished (its last checkpoint was passed to `checkpoint`). */
  finish(ctx: TrackerContext): Promise<void>;
  /** Where a person finds the run (a folder, a URL). */
  where(ctx: TrackerContext): string;
}
