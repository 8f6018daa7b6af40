/**
 * The inspect page: one self-contained HTML file (inline CSS, no scripts, no links out), like the
 * report. Every response is a row of token cells; each credit signal the run has is one lane under
 * the tokens, coloured per token (hover a cell for its numbers):
 *   entropy      grey by H_t; a bold outline marks the forking-token set the objective trains on
 *   SPO          green (A > 0) or red (A < 0) by the segment advantage; a bar marks a segment's
 *                start; a dot marks a risky token (p_old below the threshold: the only ones SPO trains)
 *   critical     cDPO's weight 1 − s_t (dark = critical, low s_t)
 *   T-REG        green (r̂_t > 0) or red (r̂_t < 0)
 * plus the verifier's verdict, score and reason (what it extracted and compared).
 */
import type { InspectData, InspectResponse, InspectToken } from './inspect-data.js';

/** The page's file name beside the run's report (`creditflow inspect` writes it there; the report links to it). */
export const inspectFileName = (runId: string) => `${runId}-inspect.html`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const clamp01 = (x: number) => Math.max(0, Math.min(1, x));
const fmt = (x: number | undefined) => (x === undefined ? '' : Math.abs(x) >= 100 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(3));

/** Signed value → green or red, alpha by |x| / scale. */
const signed = (x: number, scale: number) => (x >= 0 ? `rgba(44,160,44,${clamp01(Math.abs(x) / scale).toFixed(3)})` : `rgba(214,39,40,${clamp01(Math.abs(x) / scale).toFixed(3)})`);

interface Lane {
  name: string;
  has: (t: InspectToken) => boolean;
  cell: (t: InspectToken) => { style: string; cls?: string; title: string };
}

function lanesFor(data: InspectData): Lane[] {
  const all = data.responses.flatMap((r) => r.tokens);
  const maxH = Math.max(1e-9, ...all.map((t) => t.entropy ?? 0));
  const maxA = Math.max(1e-9, ...all.map((t) => Math.abs(t.spoAdvantage ?? 0)));
  const lanes: Lane[] = [
    {
      name: 'entropy / forking set', has: (t) => t.entropy !== undefined,
      cell: (t) => ({ style: `background: rgba(90,90,90,${clamp01(t.entropy! / maxH).toFixed(3)})`, cls: t.forkingKept ? 'kept' : undefined, title: `H = ${fmt(t.entropy)}${t.forkingKept ? ' · in the forking set' : ''} · p_old = ${fmt(t.prob)}` }),
    },
    {
      name: 'SPO advantage', has: (t) => t.spoAdvantage !== undefined,
      cell: (t) => ({ style: `background: ${signed(t.spoAdvantage!, maxA)}`, cls: [t.segmentStart ? 'seg' : '', t.risky ? 'risky' : ''].join(' ').trim() || undefined, title: `A = ${fmt(t.spoAdvantage)}${t.risky ? ' · risky (trained)' : ' · not risky (masked)'}` }),
    },
    {
      name: 'cDPO weight 1 − s', has: (t) => t.criticalScore !== undefined,
      cell: (t) => ({ style: `background: rgba(31,119,180,${clamp01(1 - t.criticalScore!).toFixed(3)})`, title: `s = ${fmt(t.criticalScore)} · weight 1 − s = ${fmt(1 - t.criticalScore!)}` }),
    },
    {
      name: 'T-REG r̂', has: (t) => t.tokenReward !== undefined,
      cell: (t) => ({ style: `background: ${signed(t.tokenReward!, 0.5)}`, title: `r̂ = ${fmt(t.tokenReward)}` }),
    },
  ];
  return lanes.filter((l) => all.some(l.has));
}

function responseBlock(r: InspectResponse, lanes: Lane[]): string {
  const tokens = r.tokens.map((t) => `<td class="tok">${escape(t.text)}</td>`).join('');
  const rows = lanes.map((lane) => `<tr data-lane="${escape(lane.name)}"><th>${escape(lane.name)}</th>${r.tokens.map((t) => {
    if (!lane.has(t)) return '<td class="none"></td>';
    const c = lane.cell(t);
    return `<td${c.cls ? ` class="${c.cls}"` : ''} style="${c.style}" title="${escape(c.title)}"></td>`;
  }).join('')}</tr>`);
  const v = r.verdict;
  const verdict = v ? `<p class="verdict ${escape(v.status)}">verdict <b>${escape(v.status)}</b> · score ${fmt(v.score)} · ${escape(v.reason)}</p>` : '';
  return `<section class="response" data-id="${escape(r.id)}"><h3>${escape(r.label)}</h3><p class="prompt">prompt <code>${escape(r.prompt)}</code> → <code>${escape(r.text)}</code></p>${verdict}`
    + `<table class="tokens"><tr><th>token</th>${tokens}</tr>${rows.join('')}</table></section>`;
}

export function renderInspect(data: InspectData): string {
  const lanes = lanesFor(data);
  const settings = Object.entries(data.settings).map(([k, v]) => `<span><b>${escape(k)}</b> ${escape(String(v))}</span>`).join(' · ');
  const legend = [
    ['entropy / forking set', 'grey by entropy H_t; outlined: in the forking-token set (top or bottom ρ by entropy, τ pooled over the iteration)'],
    ['SPO advantage', 'green A > 0, red A < 0 (segment advantage before whitening); left bar: a segment starts; dot: risky token, the only kind SPO trains'],
    ['cDPO weight 1 − s', 'blue by 1 − s_t: dark = critical token (the contrastive estimate s_t is low)'],
    ['T-REG r̂', 'green r̂_t > 0, red r̂_t < 0 (self-generated token reward in (−0.5, 0.5))'],
  ].filter(([name]) => lanes.some((l) => l.name === name)).map(([name, text]) => `<li><b>${escape(name)}</b>: ${escape(text)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>inspect ${escape(data.runId)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h3 { font-size: 14px; margin: 18px 0 4px; }
table.tokens { border-collapse: separate; border-spacing: 2px; font-family: ui-monospace, monospace; }
table.tokens th { font-weight: normal; text-align: right; padding-right: 8px; color: #555; font-size: 12px; white-space: nowrap; }
table.tokens td { min-width: 18px; height: 18px; text-align: center; border: 1px solid #eee; }
td.tok { background: #f7f7f7; font-size: 14px; }
td.kept { outline: 2px solid #000; }
td.seg { border-left: 3px solid #333; }
td.risky::after { content: "•"; }
td.none { border: none; }
p.prompt, p.verdict { margin: 2px 0; font-size: 13px; }
p.verdict.correct b { color: #2ca02c; } p.verdict.incorrect b { color: #d62728; }
.settings { font-size: 13px; color: #444; }
</style></head><body>
<h1>inspect · ${escape(data.runId)}</h1>
<p class="settings">${escape(data.kind)} run · ${escape(data.scope)} · ${settings}</p>
<ul class="legend">${legend}</ul>
${data.responses.map((r) => responseBlock(r, lanes)).join('\n')}
</body></html>
`;
}
