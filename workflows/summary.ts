/** The short markdown the Web UI shows as a run's "current details". Pure: no I/O. */
import type { ExperimentConfig } from '../configs/schema.js';
import type { RunProgress } from './shared.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

export function summaryMarkdown(p: RunProgress, config: ExperimentConfig): string {
  const reward = p.latestMetrics['reward/mean'];
  const evalRows = Object.entries(p.latestEvaluation?.metrics ?? {})
    .filter(([k]) => /^eval\/(pass@|mean@|meanLength|truncated|.+\/accuracy$|.+\/pass@)/.test(k))
    .map(([k, v]) => `| ${k.slice('eval/'.length)} | ${/length/i.test(k) ? v.toFixed(1) : pct(v)} |`);
  const rewardRows = Object.entries(p.latestMetrics)
    .filter(([k]) => /^reward\/[^/]+\/(mean|error|timeout)$/.test(k) || k === 'reward/error' || k === 'reward/timeout' || k === 'rollout/truncated')
    .map(([k, v]) => `| ${k} | ${k.endsWith('/mean') ? v.toFixed(3) : pct(v)} |`);
  const mix = config.rewards.mix.map((r) => `${r.name ?? r.verifier}×${r.weight}`).join(config.rewards.mode === 'sum' ? ' + ' : ` ${config.rewards.mode} `);
  return [
    `### ${p.experiment} · ${p.objective}`,
    `**${p.status}** · iteration ${p.iteration}/${p.totalIterations}`,
    '',
    '| metric | value |',
    '|---|---|',
    `| warm-start accuracy | ${pct(p.warmStartAccuracy)} |`,
    `| latest accuracy | ${pct(p.latestEvaluation?.accuracy)}${p.latestEvaluation ? ` (it ${p.latestEvaluation.iteration})` : ''} |`,
    `| best accuracy | ${pct(p.bestEvaluation?.accuracy)}${p.bestEvaluation ? ` (it ${p.bestEvaluation.iteration})` : ''} |`,
    ...evalRows,
    `| mean reward | ${reward === undefined ? '–' : reward.toFixed(3)} |`,
    ...rewardRows,
    `| last checkpoint | ${p.lastCheckpoint ?? '–'} |`,
    ...(p.damage?.length ? [`| damaged checkpoints | ${p.damage.length} (\`creditflow check ${p.runId}\`) |`] : []),
    '',
    `data ${config.data.source} · rewards ${mix} · G=${config.rollout.groupSize} · lr ${config.optimizer.lr} · seed ${config.seed}`,
    p.runDir ? `run folder: \`${p.runDir}\`` : '',
  ].join('\n');
}
