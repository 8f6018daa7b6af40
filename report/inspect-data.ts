/**
 * What `creditflow inspect` shows, read from a run's folder alone (no server, no model): each
 * response token by token with the credit each method gave it.
 *
 *  - RL runs, one iteration (default: the last one with a rollout): the rollout's tokens, old-policy
 *    probabilities and entropies; the forking-token set (top or bottom ρ by entropy, τ pooled over
 *    the whole iteration as the update pools it); SPO's segments and their advantages (chain or tree,
 *    from the values file, before whitening); the verifier's verdict and its reason (what it
 *    extracted and compared).
 *  - Preference runs, the training pairs (or one, `pair`): cDPO's critical-token scores s_t (weight
 *    1 − s_t on the rejected side), T-REG's token rewards r̂_t, from the scores files.
 * SparsePO's masks are not in any file (the activation mask and the head are computed from the
 * reference's hidden states at each step), so they are not shown here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateRunConfig } from '../configs/load.js';
import { warmStartConfigOf, type PreferenceConfig } from '../configs/preference-schema.js';
import { runTokenizer } from '../engine/run-tokenizer.js';
import { quantileLinear } from '../losses/index.js';
import type { TextTokenizer } from '../models/index.js';
import { responseText } from '../models/response-tokens.js';
import { readPairs, readTokenScores } from '../store/preference-files.js';
import { readRewards, readRollouts, rolloutFile } from '../store/rollout-files.js';
import { readSpoValues, spoValuesFileFor } from '../store/spo-values.js';
import { encodePair } from '../tasks/preference-pairs.js';
import { spoTokenAdvantages } from '../tasks/spo.js';

/** One response token and the credit each method gave it (absent: the method does not apply). */
export interface InspectToken {
  text: string;
  /** Old-policy (sampling) probability. */
  prob?: number;
  entropy?: number;
  /** In the forking-token set the objective trains on. */
  forkingKept?: boolean;
  /** SPO segment advantage (before whitening), and whether the token starts a segment. */
  spoAdvantage?: number;
  segmentStart?: boolean;
  /** SPO's probability mask: a risky token (p_old < threshold), the only kind that enters its loss. */
  risky?: boolean;
  /** cDPO contrastive score s_t. */
  criticalScore?: number;
  /** T-REG token reward r̂_t. */
  tokenReward?: number;
}

export interface InspectResponse {
  id: string;
  label: string;
  prompt: string;
  text: string;
  tokens: InspectToken[];
  /** The verifier's verdict (RL) or the side (preference). */
  verdict?: { status: string; score: number; reason: string };
}

export interface InspectData {
  runId: string;
  kind: 'rl' | 'preference';
  objective: string;
  /** What is shown: `iteration 7`, `pair p12`, `training pairs 1-20`. */
  scope: string;
  /** The methods' settings the colours depend on (ρ, τ, thresholds). */
  settings: Record<string, string | number>;
  responses: InspectResponse[];
}

const tokenText = (tok: TextTokenizer, id: number) => {
  if (tok.stopIds.includes(id)) return '⏎';
  return tok.decode([id]) || `⟨${id}⟩`;
};

/** Rollout iterations on disk, ascending. */
function rolloutIterations(runDir: string): number[] {
  const dir = join(runDir, 'rollouts');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => /^(\d+)\.jsonl$/.exec(f)?.[1]).filter((x): x is string => x !== undefined).map(Number).sort((a, b) => a - b);
}

export function collectInspect(runId: string, runDir: string, opts: { iteration?: number; pair?: string; limit?: number } = {}): InspectData {
  const configPath = join(runDir, 'config.yaml');
  if (!existsSync(configPath)) throw new Error(`${runDir} has no config.yaml: not a run folder`);
  const run = validateRunConfig(parse(readFileSync(configPath, 'utf8')), configPath);
  if (run.kind === 'preference') return preferencePage(runId, runDir, run.config, opts);
  const config = run.config;
  const tok = runTokenizer(config);
  const iterations = rolloutIterations(runDir);
  const iteration = opts.iteration ?? iterations.at(-1);
  if (iteration === undefined) throw new Error(`run ${runId} has no rollouts yet`);
  const file = rolloutFile(runDir, iteration);
  if (!existsSync(file)) throw new Error(`run ${runId} has no rollout for iteration ${iteration} (it has ${iterations.join(', ') || 'none'})`);
  const records = readRollouts(file);
  const verdicts = readRewards(file);
  const o = config.objective;
  const settings: Record<string, string | number> = { objective: o.name };

  // Forking tokens: τ over every token of the iteration, as the update pools it.
  const { rho, side } = o.forking;
  const tau = quantileLinear(Float64Array.from(records.flatMap((r) => r.entropies)), side === 'top' ? 1 - rho : rho);
  Object.assign(settings, { 'forking ρ': rho, 'forking side': side, 'entropy τ': Number(tau.toFixed(4)) });

  // SPO: segment advantages from the values file, when the method step wrote one.
  const values = readSpoValues(spoValuesFileFor(file));
  let spoAdv: Map<string, number[]> | undefined;
  let cuts: Map<string, Set<number>> | undefined;
  if (values && verdicts) {
    const byId = new Map(values.records.map((r) => [r.id, r]));
    const kept = records.map((r, k) => ({ r, score: verdicts[k]?.score ?? 0 })).filter(({ r }) => byId.has(r.id));
    const adv = spoTokenAdvantages(kept.map(({ r }) => ({ id: r.id, tokens: r.tokens })), kept.map((x) => x.score), byId);
    spoAdv = new Map(kept.map(({ r }, k) => [r.id, adv[k]]));
    cuts = new Map(values.records.map((v) => [v.id, new Set(v.cutpoints.map((c) => c + 1))]));
    Object.assign(settings, { 'SPO mode': o.spo.mode, 'risky below p': values.probThreshold });
  }
  const limit = opts.limit ?? 64;
  const responses = records.slice(0, limit).map((r, k): InspectResponse => {
    const adv = spoAdv?.get(r.id);
    return {
      id: r.id, label: `prompt ${r.group} · sample ${r.id.split('-').at(-1)}`, prompt: r.prompt, text: r.completion,
      verdict: verdicts?.[k] ? { status: verdicts[k].status, score: verdicts[k].score, reason: verdicts[k].reason } : undefined,
      tokens: r.tokens.map((id, t) => ({
        text: tokenText(tok, id), prob: Math.exp(r.logprobs[t]), entropy: r.entropies[t],
        forkingKept: side === 'top' ? r.entropies[t] >= tau : r.entropies[t] <= tau,
        ...(adv ? { spoAdvantage: adv[t], segmentStart: t === 0 || cuts!.get(r.id)!.has(t), risky: Math.exp(r.logprobs[t]) < (values?.probThreshold ?? 0.9) } : {}),
      })),
    };
  });
  return { runId, kind: 'rl', objective: o.name, scope: `iteration ${iteration} (${records.length} completions${records.length > limit ? `, first ${limit} shown` : ''})`, settings, responses };
}

function preferencePage(runId: string, runDir: string, config: PreferenceConfig, opts: { pair?: string; limit?: number }): InspectData {
  const tok = runTokenizer(warmStartConfigOf(config));
  const pairs = readPairs(runDir, 'train', { tokenizer: tok, maxSeqLen: config.model.maxSeqLen });
  const chosen = opts.pair === undefined ? pairs.slice(0, opts.limit ?? 20) : pairs.filter((p) => p.id === opts.pair);
  if (chosen.length === 0) throw new Error(`run ${runId} has no training pair ${JSON.stringify(opts.pair)}`);
  const critical = readTokenScores(runDir, 'critical-tokens');
  const rewards = readTokenScores(runDir, 'token-rewards');
  const responses = chosen.flatMap((p) => {
    // The tokens the scores are aligned to: each response as the run encodes it (EOS or the template's turn end included).
    const encoded = encodePair(tok, p);
    return (['chosen', 'rejected'] as const).map((side): InspectResponse => {
      const ids = encoded[side];
      const text = responseText(tok, p.prompt, p[side]);
      const s = critical?.scores[p.id]?.[side];
      const r = rewards?.scores[p.id]?.[side];
      return {
        id: `${p.id}/${side}`, label: `pair ${p.id} · ${side}`, prompt: typeof p.prompt === 'string' ? p.prompt : JSON.stringify(p.prompt), text,
        tokens: ids.map((id, t) => ({ text: tokenText(tok, id), ...(s ? { criticalScore: s[t] } : {}), ...(r ? { tokenReward: r[t] } : {}) })),
      };
    });
  });
  const o = config.objective;
  return {
    runId, kind: 'preference', objective: o.name,
    scope: opts.pair === undefined ? `training pairs 1-${chosen.length} of ${pairs.length}` : `pair ${opts.pair}`,
    settings: { objective: o.name, β: o.beta, ...(o.name === 'critical-token-dpo' ? { 'critical side': o.criticalSide } : {}) },
    responses,
  };
}
