/**
 * Metrics as they travel and are stored: flat `name -> number` records (metrics.jsonl lines, activity
 * results, the workflow's progress), never tensors. The names below are shared by the steps that
 * write them and the reports, trackers and Web UI summary that read them; readers pick what to show
 * by which names are present, never by which task a run trains.
 *
 *   reward/mean, reward/correct, reward/error, reward/timeout, reward/skipped   the whole reward
 *   reward/<name>/mean|correct|error|timeout                                     each reward of the mix
 *   rollout/truncated                                                           completions cut at the length limit
 *   eval/accuracy, eval/<name>/accuracy, eval/pass@<k>, eval/mean@<k>,
 *   eval/meanLength, eval/truncated                                             held-out evaluation
 *
 * Rates (correct, error, timeout, skipped, truncated, accuracy) are fractions in [0, 1].
 */
export type Metrics = Record<string, number>;

/** A per-reward metric: `reward/<name>/<stat>`. */
export const rewardMetric = (name: string, stat: 'mean' | 'correct' | 'error' | 'timeout') => `reward/${name}/${stat}`;

/** A per-reward evaluation metric: `eval/<name>/<stat>` (accuracy, pass@k, mean@k). */
export const evalMetric = (name: string, stat: string) => `eval/${name}/${stat}`;
