/** The short markdown the Web UI shows as a run's "current details". Pure: no I/O. */
import type { ExperimentConfig } from '../configs/schema.js';
import type { RunProgress } from './shared.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

export function summaryMarkdown(p: RunProgress, config: ExperimentConfig): string {
  const reward = p.latestMetrics['reward/mean'];
  return [
    `### ${p.experiment} · ${p.objective}`,
    `**${p.status}** · iteration ${p.iteration}/${p.totalIterations}`,
    '',
    '| metric | value |',
    '|---|---|',
    `| warm-start accuracy | ${pct(p.warmStartAccuracy)} |`,
    `| latest accuracy | ${pct(p.latestEvaluation?.accuracy)}${p.latestEvaluation ? ` (it ${p.latestEvaluation.iteration})` : ''} |`,
    `| best accuracy | ${pct(p.bestEvaluation?.accuracy)}${p.bestEvaluation ? ` (it ${p.bestEvaluation.iteration})` : ''} |`,
    `| mean reward | ${reward === undefined ? '–' : reward.toFixed(3)} |`,
    `| last checkpoint | ${p.lastCheckpoint ?? '–'} |`,
    '',
    `task ${config.task.name} · G=${config.rollout.groupSize} · lr ${config.optimizer.lr} · seed ${config.seed}`,
    p.runDir ? `run folder: \`${p.runDir}\`` : '',
  ].join('\n');
}
