/**
 * Sending runs to their experiment trackers, from the worker that runs their model steps.
 *
 * metrics.jsonl is the one record of a run; a tracker is a copy of it. After each of a run's model
 * steps (tracking/interceptor.ts, the one call site) the run's trackers get the lines they have
 * not had yet, the newest checkpoint's folder, and at the end the word that the run finished. What
 * each tracker has had is kept in `<run>/tracking/<tracker>.json`, so a retry, a restarted worker
 * or another worker carries on where the last one stopped.
 *
 * A tracker that fails (a server that is down, a full disk) never fails the run: the step has
 * already been recorded, the failure is written into the tracker's state (which `creditflow status`
 * shows), and the send is retried with back-off, and again after the run's next step.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { writeFileAtomic } from '../store/atomic-dir.js';
import { readMetrics } from '../store/metrics-log.js';
import { runDir as runDirOf } from '../store/paths.js';
import { checkpointDir, listCheckpoints } from '../store/weight-versions.js';
import { MlflowTracker } from './mlflow.js';
import { TRACKER_NAMES, type TrackerName } from './names.js';
import { TensorBoardTracker, tensorboardRoot } from './tensorboard.js';
import type { Tracker, TrackerContext } from './tracker.js';

/** What `<run>/tracking/<tracker>.json` holds. */
export interface TrackerState {
  tracker: TrackerName;
  /** metrics.jsonl lines sent. */
  sent: number;
  /** Lines in metrics.jsonl at the last attempt. */
  total: number;
  checkpoint: string | null;
  finishRequested: boolean;
  finished: boolean;
  /** The last failure, until a send succeeds again. */
  error: string | null;
  errorSince: string | null;
  attempts: number;
  lastOk: string | null;
  where: string | null;
  [key: string]: unknown;
}

export const trackingDir = (runDir: string) => join(runDir, 'tracking');
const stateFile = (runDir: string, name: TrackerName) => join(trackingDir(runDir), `${name}.json`);

export function readTrackerState(runDir: string, name: TrackerName): TrackerState {
  try {
    return JSON.parse(readFileSync(stateFile(runDir, name), 'utf8')) as TrackerState;
  } catch {
    return { tracker: name, sent: 0, total: 0, checkpoint: null, finishRequested: false, finished: false, error: null, errorSince: null, attempts: 0, lastOk: null, where: null };
  }
}

/** `tensorboard,mlflow` -> the names; an unknown one is an error naming it. */
export function parseTrackerList(text: string | undefined): TrackerName[] {
  if (!text) return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((name) => {
    if (!(TRACKER_NAMES as readonly string[]).includes(name)) throw new Error(`unknown tracker ${JSON.stringify(name)}: expected ${TRACKER_NAMES.join(', ')}`);
    return name as TrackerName;
  });
}

export interface TrackingOptions {
  /** The state folder runs live in. */
  home: string;
  /** Trackers for runs whose config has no `tracking` (`creditflow worker --tracking`, CREDITFLOW_TRACKING). */
  defaultTracking?: TrackerName[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

interface RunConfigView { experiment: string; tracking?: TrackerName[]; [key: string]: unknown }

const RETRY_MS = { first: 1000, max: 30_000 };

export class TrackingHub {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly trackers = new Map<string, Tracker>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly configs = new Map<string, { mtimeMs: number; config: RunConfigView }>();
  private closed = false;

  constructor(private readonly options: TrackingOptions) {}

  /**
   * A step of the run was recorded (`finished`: the run has ended). Sends in the background, one
   * send at a time per run; never throws and never waits for a tracker.
   */
  notify(runId: string, finished = false): void {
    if (this.closed) return;
    const previous = this.chains.get(runId) ?? Promise.resolve();
    const next = previous.then(() => this.sync(runId, finished)).catch((err: Error) => this.options.log?.(`tracking ${runId}: ${err.message}`));
    this.chains.set(runId, next);
  }

  /** Waits (at most `timeoutMs`) for the sends in flight; stops retrying. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    await Promise.race([Promise.all(this.chains.values()), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Waits for the sends in flight (tests). */
  async idle(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private runConfig(runDir: string): RunConfigView | null {
    const file = join(runDir, 'config.yaml');
    if (!existsSync(file)) return null;
    const { mtimeMs } = statSync(file);
    const cached = this.configs.get(runDir);
    if (cached && cached.mtimeMs === mtimeMs) return cached.config;
    const config = parse(readFileSync(file, 'utf8')) as RunConfigView;
    this.configs.set(runDir, { mtimeMs, config });
    return config;
  }

  private tracker(runId: string, name: TrackerName): Tracker | string {
    const key = `${runId}#${name}`;
    const existing = this.trackers.get(key);
    if (existing) return existing;
    const env = this.options.env ?? process.env;
    let tracker: Tracker;
    if (name === 'mlflow') {
      if (!env.MLFLOW_TRACKING_URI) return 'MLFLOW_TRACKING_URI is not set on this worker';
      tracker = new MlflowTracker(env.MLFLOW_TRACKING_URI);
    } else tracker = new TensorBoardTracker(tensorboardRoot(this.options.home, env));
    this.trackers.set(key, tracker);
    return tracker;
  }

  private async sync(runId: string, finished: boolean): Promise<void> {
    const runDir = runDirOf(runId, this.options.home);
    const config = this.runConfig(runDir);
    if (!config) return;
    const names = config.tracking ?? this.options.defaultTracking ?? [];
    if (names.length === 0) return;
    const lines = readMetrics(runDir);
    const newest = listCheckpoints(runDir)[0];
    const checkpoint = newest === undefined ? null : checkpointDir(runDir, newest);
    let failed = false;
    for (const name of names) {
      const state = readTrackerState(runDir, name);
      state.total = lines.length;
      state.finishRequested ||= finished;
      const tracker = this.tracker(runId, name);
      const ctx: TrackerContext = { runId, runDir, experiment: config.experiment, config, state };
      try {
        if (typeof tracker === 'string') throw new Error(tracker);
        await tracker.start(ctx);
        if (lines.length > state.sent) {
          await tracker.log(ctx, lines.slice(state.sent));
          state.sent = lines.length;
        }
        if (checkpoint && checkpoint !== state.checkpoint) {
          await tracker.checkpoint(ctx, checkpoint);
          state.checkpoint = checkpoint;
        }
        if (state.finishRequested && !state.finished) {
          await tracker.finish(ctx);
          state.finished = true;
        }
        if (state.error) this.options.log?.(`tracking ${runId}: ${name} is back after ${state.attempts} failed attempt(s)`);
        Object.assign(state, { error: null, errorSince: null, attempts: 0, lastOk: new Date().toISOString(), where: tracker.where(ctx) });
      } catch (err) {
        failed = true;
        if (!state.error) this.options.log?.(`tracking ${runId}: ${name} failed (the run goes on; retrying): ${(err as Error).message}`);
        Object.assign(state, { error: (err as Error).message, errorSince: state.errorSince ?? new Date().toISOString(), attempts: state.attempts + 1 });
      }
      mkdirSync(trackingDir(runDir), { recursive: true });
      writeFileAtomic(stateFile(runDir, name), `${JSON.stringify(state, null, 2)}\n`);
      if (failed) this.retryLater(runId, state.attempts);
    }
  }

  private retryLater(runId: string, attempts: number): void {
    if (this.closed || this.retries.has(runId)) return;
    const delay = Math.min(RETRY_MS.max, RETRY_MS.first * 2 ** Math.max(0, attempts - 1));
    const timer = setTimeout(() => {
      this.retries.delete(runId);
      this.notify(runId);
    }, delay);
    timer.unref();
    this.retries.set(runId, timer);
  }
}
