/**
 * The checks every reference checkpoint goes through, against the numbers transformers produced for
 * it (test/fixtures/reference-models/*.expected.json, written by `npm run reference-models`):
 * tokenizer(text) ids, apply_chat_template text and ids, per-token log-probs over prompt and response
 * (float32, |Δ| <= 1e-3), greedy continuations (identical, stopping at any generation EOS).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { referencePaths } from '../../scripts/reference-models/paths.js';
import { loadHfTokenizer, parseLlamaConfig, type HfTokenizer } from '../../models/llama/index.js';
import { generate } from '../../models/generate.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import type { CausalLM } from '../../models/causal-lm.js';
import type { ChatMessage, TextTokenizer } from '../../models/tokenizer.js';

export const FIXTURES = referencePaths().fixturesDir;
export const LOGPROB_TOLERANCE = 1e-3;

export interface ExpectedSequence {
  text?: string;
  messages?: ChatMessage[];
  promptIds: number[];
  greedy: number[];
  greedyMinMargin: number;
  ids: number[];
  logprobs: number[];
}

/** A conversational preference pair (TRL's form; no `prompt`: TRL's implicit prompt) and the ids TRL's DPO trainer gives it. */
export interface ExpectedPreferencePair {
  prompt?: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
}

export interface Expected {
  checkpoint: string;
  bosToken: string | null;
  eosToken: string;
  generationEos: number[];
  texts: { text: string; ids: number[] }[];
  chats: { messages: ChatMessage[]; rendered: string; ids: number[] }[];
  greedyTokens: number;
  sequences: ExpectedSequence[];
  /** Written for the tiny checkpoints (and SmolLM2's file, once remade). */
  preferencePairs?: ExpectedPreferencePair[];
}

export function readExpected(name: string): Expected {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8')) as Expected;
}

/** A committed checkpoint's tokenizer, without its weights (as a run's data validation loads it). */
export function referenceTokenizer(name: string): HfTokenizer {
  const dir = join(FIXTURES, name);
  return loadHfTokenizer(dir, parseLlamaConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>))!;
}

/** Largest |ours − theirs| of log p(ids[t] | ids[<t]), t = 1..len−1, over all sequences (one batch). */
export function maxLogProbError(model: CausalLM, sequences: { ids: number[]; logprobs: number[] }[], padId: number): number {
  const seqs = sequences.map((s) => s.ids);
  const out = sequenceLogProbs(model, seqs, seqs.map(() => 1), { padId });
  const ours = out.logp.arraySync() as number[][];
  tf.dispose([out.logp, out.mask, out.entropies]);
  let worst = 0;
  sequences.forEach((s, b) => s.logprobs.forEach((lp, j) => (worst = Math.max(worst, Math.abs(ours[b][j] - lp)))));
  return worst;
}

export function checkTokenizer(tok: TextTokenizer, e: Expected): void {
  for (const t of e.texts) expect(tok.encodePrompt(t.text), JSON.stringify(t.text)).toEqual(t.ids);
  for (const c of e.chats) {
    expect(tok.renderPrompt(c.messages)).toBe(c.rendered);
    expect(tok.encodePrompt(c.messages)).toEqual(c.ids);
  }
  expect([...tok.stopIds]).toEqual(e.generationEos);
  for (const s of e.sequences) expect(tok.encodePrompt(s.text ?? s.messages!)).toEqual(s.promptIds);
}

/** Greedy continuations of every prompt, one batch, as transformers' generate(do_sample=False) made them. */
export function checkGreedy(model: CausalLM, tok: TextTokenizer, e: Expected): void {
  const gens = generate(model, e.sequences.map((s) => s.promptIds), { maxNewTokens: e.greedyTokens, temperature: 0, eosId: tok.stopIds, padId: tok.pad });
  gens.forEach((g, i) => expect(g.tokens, `prompt ${i} (smallest top-2 margin ${e.sequences[i].greedyMinMargin})`).toEqual(e.sequences[i].greedy));
}
