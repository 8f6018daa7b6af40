/** The markdown the Web UI shows as a preference run's "current details". Pure: no I/O. */
import type { PreferenceConfig } from '../configs/preference-schema.js';
import type { RunProgress } from './shared.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | undefined, digits = 3) => (x === undefined ? '–' : x.toFixed(digits));

export function preferenceSummaryMarkdown(p: RunProgress, config: PreferenceConfig): string {
  const m = p.latestMetrics;
  const pairs = config.pairs.source === 'file' ? `pairs from \`${config.pairs.path}\`` : `generated pairs (${config.pairs.pairsPerPrompt}/problem)`;
  return [
    `### ${p.experiment} · ${p.objective} (preference)`,
    `**${p.status}** · step ${p.iteration}/${p.totalIterations}`,
    '',
    '| metric | value |',
    '|---|---|',
    `| warm-start accuracy | ${pct(p.warmStartAccuracy)} |`,
    `| latest accuracy | ${pct(p.latestEvaluation?.accuracy)}${p.latestEvaluation ? ` (step ${p.latestEvaluation.iteration})` : ''} |`,
    `| best accuracy | ${pct(p.bestEvaluation?.accuracy)}${p.bestEvaluation ? ` (step ${p.bestEvaluation.iteration})` : ''} |`,
    `| loss | ${num(m['update/loss'])} |`,
    `| reward margin | ${num(m['update/margin'])} |`,
    `| pairs ranked right (batch) | ${pct(m['update/accuracy'])} |`,
    `| last checkpoint | ${p.lastCheckpoint ?? '–'} |`,
    '',
    `data ${config.data.source} · ${pairs} · β ${config.objective.beta} · batch ${config.optimizer.batchSize} · lr ${config.optimizer.lr} · seed ${config.seed}`,
    p.runDir ? `run folder: \`${p.runDir}\`` : '',
  ].join('\n');
}
