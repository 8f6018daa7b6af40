/** Follows a sweep through its `leaderboard` query: a live table of trials with progress bars. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { leaderboardQuery } from '../workflows/shared.js';
import { paramsLabel, type SweepLeaderboard } from '../workflows/sweep-plan.js';
import type { SweepResult } from '../workflows/sweep.js';
import { formatMetric } from '../report/format.js';

const bar = (done: number, total: number, width = 16) => {
  const filled = total ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
};

export function leaderboardTable(b: SweepLeaderboard): string[] {
  const c = b.counts;
  const rows = [['#', 'TRIAL', 'PARAMS', 'PROGRESS', 'STATUS', b.metric]];
  for (const t of b.trials) {
    rows.push([t.rank === null ? '' : String(t.rank), t.id, paramsLabel(t.params),
      `${bar(t.iteration, t.totalIterations)} ${t.iteration}/${t.totalIterations}`, t.status, formatMetric(b.metric, t.metric)]);
  }
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return [
    `sweep ${b.sweepId} · ${b.status} · ${c.completed + c['stopped-early']}/${b.total} finished · ${c.running + c.stopping} running`
      + ` (≤ ${b.concurrency}) · ranked by ${b.metric} (${b.direction})`,
    ...rows.map((r) => r.map((cell, k) => cell.padEnd(widths[k])).join('  ').trimEnd()),
  ];
}

export async function watchSweep(client: Client, sweepId: string, pollMs = 1000, stream: NodeJS.WriteStream = process.stdout): Promise<SweepResult> {
  const handle = client.workflow.getHandle(sweepId);
  const result = handle.result() as Promise<SweepResult>;
  let finished = false;
  void result.finally(() => { finished = true; }).catch(() => undefined);
  let drawn = 0;
  let last = '';
  const draw = (lines: string[]) => {
    const text = lines.join('\n');
    if (text === last) return;
    last = text;
    if (stream.isTTY && drawn) stream.write(`\x1b[${drawn}A\x1b[0J`);
    stream.write(`${text}\n`);
    drawn = lines.length;
  };
  while (!finished) {
    const board = await handle.query(leaderboardQuery).catch(() => null);
    if (board) draw(leaderboardTable(board));
    await Promise.race([sleep(pollMs), result.catch(() => undefined)]);
  }
  const final = await result;
  draw(leaderboardTable(final.leaderboard));
  return final;
}
