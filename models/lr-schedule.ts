/**
 * Learning-rate schedules as one pure function of the step: no state, so a resumed run gets the
 * same rate from its step counter alone.
 *
 *   constant       lr
 *   linear-warmup  lr · (s+1)/W for s < W, then lr
 *   cosine         the same warm-up, then lr_min + (lr − lr_min) · ½(1 + cos(π · p)),
 *                  p = (s − W)/(S − W) clamped to [0, 1], lr_min = minLrRatio · lr (nanoGPT `get_lr`)
 *
 * `step` counts from 0 (the first optimizer step uses step 0).
 */

export type LrSchedule =
  | { kind: 'constant' }
  | { kind: 'linear-warmup'; warmupSteps: number }
  | {
      kind: 'cosine';
      /** Steps of linear warm-up before the decay (default 0). */
      warmupSteps?: number;
      /** Step at which the decay reaches its floor (and stays there). */
      totalSteps: number;
      /** Floor as a fraction of the peak rate (default 0.1, as nanoGPT). */
      minLrRatio?: number;
    };

export const LR_SCHEDULE_KINDS = ['constant', 'linear-warmup', 'cosine'] as const satisfies readonly LrSchedule['kind'][];

/** The learning rate at optimizer step `step` (0-based) for peak rate `lr`. */
export function lrAt(schedule: LrSchedule, lr: number, step: number): number {
  if (!(step >= 0) || !Number.isInteger(step)) throw new Error(`lrAt: step must be a non-negative integer, got ${step}`);
  if (schedule.kind === 'constant') return lr;
  const warmup = schedule.warmupSteps ?? 0;
  if (!(warmup >= 0)) throw new Error(`lrAt: warmupSteps must be >= 0, got ${warmup}`);
  // 1) linear warm-up
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (schedule.kind === 'linear-warmup') return lr;
  // 2) cosine decay to the floor, 3) the floor after totalSteps
  const { totalSteps, minLrRatio = 0.1 } = schedule;
  if (!(totalSteps > warmup)) throw new Error(`lrAt: cosine totalSteps (${totalSteps}) must exceed warmupSteps (${warmup})`);
  if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new Error(`lrAt: minLrRatio must be in [0, 1], got ${minLrRatio}`);
  const p = Math.min(1, (step - warmup) / (totalSteps - warmup));
  const minLr = minLrRatio * lr;
  return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
}
