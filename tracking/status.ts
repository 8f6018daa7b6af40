/** What `creditflow status` says about a run's trackers, from their state files in the run folder. */
import { existsSync, readdirSync } from 'node:fs';
import { TRACKER_NAMES, type TrackerName } from './names.js';
import { readTrackerState, trackingDir, type TrackerState } from './sync.js';

export function readTrackingStatus(runDir: string): TrackerState[] {
  const dir = trackingDir(runDir);
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).map((f) => f.replace(/\.json$/, '')).filter((n): n is TrackerName => (TRACKER_NAMES as readonly string[]).includes(n));
  return names.map((n) => readTrackerState(runDir, n));
}

/** `tracking: mlflow 12/40 lines sent · failing since 12:03:04Z (attempt 5, retrying): cannot reach MLflow ...`. */
export function trackingStatusLines(states: TrackerState[] | null): string[] {
  return (states ?? []).map((s) => {
    const sent = `${s.sent}/${s.total} metrics lines sent${s.finished ? ', finished' : ''}`;
    if (s.error) return `tracking: ${s.tracker} ${sent} · failing since ${s.errorSince} (attempt ${s.attempts}; the run goes on, retrying): ${s.error}`;
    return `tracking: ${s.tracker} ${sent}${s.where ? ` · ${s.where}` : ''}`;
  });
}
