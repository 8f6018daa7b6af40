/**
 * A run's progress, as a bar with an ETA (cli-progress) while watching, and as one line for
 * `status`. The warm start shows its SFT steps (from its heartbeats) instead of `0/80`; the bar then
 * starts again for the iterations, so each phase's ETA is its own. Off a terminal (CI logs, pipes)
 * the bar prints a plain line every few seconds.
 */
import cliProgress from 'cli-progress';
import { formatPercent } from '../report/format.js';
import { isPreferenceLossName } from '../losses/registry.js';
import type { RunProgress } from '../workflows/shared.js';

export interface WarmStartSteps { step: number; of: number }

/** `reward 0.412 · acc 31.2% (warm 25.0%, best 33.0%)`: how the run is doing. */
export function progressDetails(p: RunProgress): string {
  const reward = p.latestMetrics['reward/mean'];
  // A preference run has no reward; its batch's implicit-reward margin says how it is doing.
  const margin = p.latestMetrics['update/margin'];
  const signal = reward === undefined && margin !== undefined ? `margin ${margin.toFixed(3)}` : `reward ${reward === undefined ? '–' : reward.toFixed(3)}`;
  return `${signal} · acc ${formatPercent(p.latestEvaluation?.accuracy)} (warm ${formatPercent(p.warmStartAccuracy)}, best ${formatPercent(p.bestEvaluation?.accuracy)})`;
}

/** What a run counts: RL iterations, or a preference run's optimizer steps (its `iteration`). */
export const progressUnit = (p: Pick<RunProgress, 'objective'>) => (isPreferenceLossName(p.objective) ? 'step' : 'iteration');

/**
 * Which phase the run is in, and how far: SFT steps during the warm start (`total` 0 until its
 * first heartbeat says how many: it may be queued behind another run's step), then iterations
 * (an RL run) or optimizer steps (a preference run, whose `iteration` counts its steps).
 */
export function phaseOf(p: RunProgress, warm: WarmStartSteps | null): { phase: string; value: number; total: number } {
  if (p.iteration === 0 && p.warmStartAccuracy === null) return { phase: 'warm start', value: warm?.step ?? 0, total: warm?.of ?? 0 };
  return { phase: progressUnit(p), value: p.iteration, total: p.totalIterations };
}

const counter = (value: number, total: number) => (total === 0 ? 'starting' : `${value}/${total}`);

/** One line: `iteration 12/80 · running · reward 0.412 · acc 31.2% (warm 25.0%, best 33.0%)`. */
export function progressLine(p: RunProgress, warm: WarmStartSteps | null = null): string {
  const { phase, value, total } = phaseOf(p, warm);
  return `${phase} ${counter(value, total)} · ${p.status} · ${progressDetails(p)}`;
}

const eta = (seconds: unknown) => {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return '–';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

export class ProgressDisplay {
  private bar: cliProgress.SingleBar | null = null;
  private phase = '';

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  update(p: RunProgress, warm: WarmStartSteps | null): void {
    const { phase, value, total } = phaseOf(p, warm);
    const payload = { phase, status: p.status, details: progressDetails(p) };
    // A new bar per phase (and once the warm start's size is known), so each ETA is the phase's own.
    if (!this.bar || `${phase}:${total}` !== this.phase) {
      this.bar?.stop();
      this.phase = `${phase}:${total}`;
      this.bar = new cliProgress.SingleBar({
        stream: this.stream,
        format: (options, params, data: typeof payload) => `${data.phase.padEnd(10)} ${cliProgress.Format.BarFormat(params.progress, options)}`
          + ` ${counter(params.value, params.total)} · ETA ${params.total > 0 && params.value >= params.total ? '0s' : eta(params.eta)} · ${data.status} · ${data.details}`,
        barCompleteChar: '█', barIncompleteChar: '░', barsize: 24, hideCursor: true,
        noTTYOutput: true, notTTYSchedule: 5000, etaBuffer: 20,
      });
      this.bar.start(total, value, payload);
      return;
    }
    this.bar.update(value, payload);
  }

  finish(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
