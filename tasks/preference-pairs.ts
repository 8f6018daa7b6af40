/**
 * Preference data sets: JSONL, one pair a line, `{"id", "prompt", "chosen", "rejected"}` (DESIGN.md).
 * `prompt` is text, or chat messages (`[{"role": "user", "content": ...}]`, TRL's conversational
 * prompt) that the checkpoint's chat template renders; `chosen` and `rejected` are text.
 *
 * {@link parsePreferenceJsonl} checks every line before anything trains and reports each bad one
 * with its line number: not JSON, a missing / extra / non-string field, an empty or duplicate id,
 * chosen equal to rejected, a character the run's tokenizer cannot encode, a pair longer than the
 * model's context. All problems are collected (up to a cap), so one pass over the file lists them.
 *
 * Tokenisation is the run's: the prompt as the tokenizer gives it (`encodePrompt`: BOS + characters
 * for the built-in model; tokenizer(text) or apply_chat_template for a checkpoint), a response its
 * tokens + EOS
 * ({@link encodePair}), the same layout as the SFT demonstrations, so a preference step trains
 * exactly the tokens greedy decoding produces.
 */
import { readBoundedText } from '../common/bounded-file.js';
import { BOUNDS } from '../configs/bounds.js';
import type { PromptInput, TextTokenizer } from '../models/tokenizer.js';
import { messagesProblem } from './rows.js';
import { quoteField, readJsonlObjects } from './jsonl-lines.js';

export interface PreferencePair {
  id: string;
  prompt: PromptInput;
  chosen: string;
  rejected: string;
}

/** A pair as token ids: the prompt as encoded, each response (text + EOS). */
export interface EncodedPair {
  id: string;
  prompt: number[];
  chosen: number[];
  rejected: number[];
}

export class PreferenceDataError extends Error {
  override name = 'DataError';
  constructor(public readonly source: string, public readonly problems: string[]) {
    super(`invalid preference data ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface PairLimits {
  tokenizer: TextTokenizer;
  /** Longest prompt + response in tokens (the model's context, `model.maxSeqLen`). */
  maxSeqLen: number;
}

const FIELDS = ['id', 'prompt', 'chosen', 'rejected'] as const;
const MAX_PROBLEMS = 20;

export function encodePair(tok: TextTokenizer, pair: PreferencePair): EncodedPair {
  return {
    id: pair.id,
    prompt: tok.encodePrompt(pair.prompt),
    chosen: tok.encode(pair.chosen, { bos: false, eos: true }),
    rejected: tok.encode(pair.rejected, { bos: false, eos: true }),
  };
}

/**
 * Problems of one pair against the tokenizer and the context length (empty when fine). Used for
 * file data and, as a guard, for generated pairs.
 */
export function pairProblems(pair: PreferencePair, limits: PairLimits): string[] {
  const problems: string[] = [];
  const lengths: Partial<Record<(typeof FIELDS)[number], number>> = {};
  for (const field of ['prompt', 'chosen', 'rejected'] as const) {
    const value = pair[field];
    try {
      lengths[field] = (field === 'prompt' ? limits.tokenizer.encodePrompt(value) : limits.tokenizer.encode(value as string, { bos: false, eos: true })).length;
    } catch (err) {
      // Messages fail as a whole (no chat template, a template error); text names its first bad character.
      if (typeof value !== 'string') {
        problems.push(`${field}: ${(err as Error).message}`);
        continue;
      }
      const bad = [...value].find((c) => {
        try {
          limits.tokenizer.encode(c, { bos: false });
          return false;
        } catch {
          return true;
        }
      });
      problems.push(`${field}: character ${JSON.stringify(bad)} cannot be encoded by the run's tokenizer`);
    }
  }
  for (const side of ['chosen', 'rejected'] as const) {
    const total = (lengths.prompt ?? 0) + (lengths[side] ?? 0);
    if (lengths.prompt !== undefined && lengths[side] !== undefined && total > limits.maxSeqLen) {
      problems.push(`prompt + ${side} is ${total} tokens (BOS and EOS included), longer than model.maxSeqLen (${limits.maxSeqLen})`);
    }
  }
  return problems;
}

/** More checks of a well-formed pair (an objective's own needs); returns its problems. */
export type PairCheck = (pair: PreferencePair) => string[];

/**
 * Parse and validate JSONL text. Blank lines are skipped (and still counted for line numbers).
 * @throws PreferenceDataError listing every bad line (`line 7: rejected: …`)
 */
export function parsePreferenceJsonl(text: string, source: string, limits: PairLimits, extraCheck?: PairCheck): PreferencePair[] {
  const firstLine = new Map<string, number>();
  const { values: pairs, problems } = readJsonlObjects<PreferencePair>(text, {
    maxProblems: MAX_PROBLEMS,
    expected: 'an object {"id", "prompt", "chosen", "rejected"}',
    read: (record, line) => {
      const lineProblems: string[] = [];
      const extra = Object.keys(record).filter((k) => !(FIELDS as readonly string[]).includes(k));
      if (extra.length) lineProblems.push(`unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => quoteField(k, 40)).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''} (expected id, prompt, chosen, rejected)`);
      for (const field of FIELDS) {
        const v = record[field];
        if (v === undefined) lineProblems.push(`${field}: required field is missing`);
        else if (field === 'prompt' && Array.isArray(v)) {
          const problem = messagesProblem(v);
          if (problem) lineProblems.push(`prompt: ${problem}`);
        }
        else if (typeof v !== 'string') lineProblems.push(`${field}: expected ${field === 'prompt' ? 'a string or a list of chat messages' : 'a string'}, got ${v === null ? 'null' : typeof v}`);
        else if (v.length === 0) lineProblems.push(`${field}: must not be empty`);
      }
      if (lineProblems.length) return { problems: lineProblems };
      const pair = { id: record.id, prompt: record.prompt, chosen: record.chosen, rejected: record.rejected } as PreferencePair;
      const seen = firstLine.get(pair.id);
      if (seen !== undefined) lineProblems.push(`id ${quoteField(pair.id)} is already used on line ${seen}`);
      else firstLine.set(pair.id, line);
      if (pair.chosen === pair.rejected) lineProblems.push('chosen and rejected are identical (no preference to learn)');
      lineProblems.push(...pairProblems(pair, limits));
      if (lineProblems.length === 0 && extraCheck) lineProblems.push(...extraCheck(pair));
      return lineProblems.length ? { problems: lineProblems } : { value: pair };
    },
  });
  if (problems.length === 0 && pairs.length === 0) problems.push('no pairs (the file is empty)');
  if (problems.length) throw new PreferenceDataError(source, problems);
  return pairs;
}

/** Read and validate a JSONL file (see {@link parsePreferenceJsonl}). */
export function loadPreferenceJsonl(path: string, limits: PairLimits, extraCheck?: PairCheck): PreferencePair[] {
  let text: string;
  try {
    text = readBoundedText(path, BOUNDS.dataFileBytes.max, 'data file');
  } catch (err) {
    throw new PreferenceDataError(path, [(err as Error).message]);
  }
  return parsePreferenceJsonl(text, path, limits, extraCheck);
}

export function toJsonl(pairs: readonly PreferencePair[]): string {
  return pairs.map((p) => JSON.stringify({ id: p.id, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + '\n';
}
