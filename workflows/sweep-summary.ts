/** The markdown the Web UI shows as a sweep's "current details": counts and the leaderboard. Pure. */
import { paramsLabel, type SweepLeaderboard } from './sweep-plan.js';

const fmt = (x: number | null) => (x === null ? '–' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3));

export function sweepSummaryMarkdown(board: SweepLeaderboard, limit = 10): string {
  const c = board.counts;
  const lines = [
    `### sweep ${board.sweepId} · ${board.experiment}`,
    `**${board.status}** · ${c.completed + c['stopped-early']}/${board.total} finished · ${c.running + c.stopping} running · ${c.pending} pending`
      + (c.failed ? ` · ${c.failed} failed` : '') + (c['stopped-early'] ? ` · ${c['stopped-early']} stopped early` : ''),
    '',
    `| # | trial | params | status | it | ${board.metric} (${board.direction}) |`,
    '|---|---|---|---|---|---|',
    ...board.trials.slice(0, limit).map((t) =>
      `| ${t.rank ?? ''} | ${t.id.slice(board.sweepId.length + 1)} | ${paramsLabel(t.params)} | ${t.status} | ${t.iteration}/${t.totalIterations} | ${fmt(t.metric)} |`),
  ];
  if (board.trials.length > limit) lines.push('', `… ${board.trials.length - limit} more (\`creditflow watch ${board.sweepId}\`)`);
  return lines.join('\n');
}
