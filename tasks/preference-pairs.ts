/**
 * Preference data sets: JSONL, one pair a line, `{"id", "prompt", "chosen", "rejected"}` (DESIGN.md);
 * `id` defaults to `line-<n>`, and other fields are ignored (a data set's scores, say).
 * `prompt` is text, or chat messages (`[{"role": "user", "content": ...}]`, TRL's conversational
 * prompt) that the checkpoint's chat template renders. `chosen` and `rejected` are text, or, after a
 * chat prompt, the assistant's turn(s) as chat messages (TRL's conversational pair; with no `prompt`,
 * whole conversations that share their first messages: tasks/conversational-pairs.ts).
 *
 * {@link parsePreferenceJsonl} checks every line before anything trains and reports each bad one
 * with its line number: not JSON, a missing or mistyped field, an empty or duplicate id,
 * malformed messages, a reply that is not the assistant's, chosen equal to rejected, a character the
 * run's tokenizer cannot encode, a chat template that renders the prompt differently before a reply,
 * a pair longer than the model's context. All problems are collected (up to a cap), so one pass over
 * the file lists them.
 *
 * Tokenisation is the run's: the prompt as the tokenizer gives it (`encodePrompt`: BOS + characters
 * for the built-in model; tokenizer(text) or apply_chat_template for a checkpoint), a response as
 * models/response-tokens.ts encodes it ({@link encodePair}): text as its tokens + EOS, the same layout
 * as the SFT demonstrations, so a preference step trains exactly the tokens greedy decoding produces;
 * chat messages as TRL's DPO trainer encodes them.
 */
import { readBoundedText } from '../common/bounded-file.js';
import { BOUNDS } from '../configs/bounds.js';
import { encodeResponse } from '../models/response-tokens.js';
import { unencodable, type ChatMessage, type PromptInput, type ResponseInput, type TextTokenizer } from '../models/tokenizer.js';
import { isImplicitPrompt, replyMessagesProblem, sameMessages, splitImplicitPrompt } from './conversational-pairs.js';
import { messagesProblem } from './rows.js';
import { quoteField, readJsonlObjects } from './jsonl-lines.js';

export interface PreferencePair {
  id: string;
  prompt: PromptInput;
  chosen: ResponseInput;
  rejected: ResponseInput;
}

/** A pair as token ids: the prompt as encoded, each response after it (models/response-tokens.ts). */
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
const SIDES = ['chosen', 'rejected'] as const;
const MAX_PROBLEMS = 20;

export function encodePair(tok: TextTokenizer, pair: PreferencePair): EncodedPair {
  const prompt = tok.encodePrompt(pair.prompt);
  return {
    id: pair.id,
    prompt,
    chosen: encodeResponse(tok, pair.prompt, prompt, pair.chosen),
    rejected: encodeResponse(tok, pair.prompt, prompt, pair.rejected),
  };
}

/** A field that failed to encode: messages fail as a whole (no chat template, a template error), text names its first bad character. */
function encodingProblem(tok: TextTokenizer, field: string, value: PromptInput, err: unknown): string {
  const bad = typeof value === 'string' ? unencodable(tok, value) : undefined;
  return bad === undefined ? `${field}: ${(err as Error).message}` : `${field}: character ${JSON.stringify(bad)} cannot be encoded by the run's tokenizer`;
}

/**
 * Problems of one pair against the tokenizer and the context length (empty when fine). Used for
 * file data and, as a guard, for generated pairs.
 */
export function pairProblems(pair: PreferencePair, limits: PairLimits): string[] {
  const tok = limits.tokenizer;
  const problems: string[] = [];
  let promptIds: number[] | undefined;
  try {
    promptIds = tok.encodePrompt(pair.prompt);
  } catch (err) {
    problems.push(encodingProblem(tok, 'prompt', pair.prompt, err));
  }
  for (const side of SIDES) {
    const response = pair[side];
    // A chat reply is cut from the rendered conversation at the prompt's ids; the prompt's problem says why there are none.
    if (promptIds === undefined && typeof response !== 'string') continue;
    let ids: number[];
    try {
      ids = encodeResponse(tok, pair.prompt, promptIds ?? [], response);
    } catch (err) {
      problems.push(encodingProblem(tok, side, response, err));
      continue;
    }
    const total = (promptIds?.length ?? 0) + ids.length;
    if (promptIds !== undefined && total > limits.maxSeqLen) {
      const counted = typeof response === 'string' ? 'BOS and EOS included' : 'as the chat template renders them';
      problems.push(`prompt + ${side} is ${total} tokens (${counted}), longer than model.maxSeqLen (${limits.maxSeqLen})`);
    }
  }
  return problems;
}

/** Why a field's value is not of its type (null when it is): id text; prompt text or messages; a response text or messages. */
function fieldProblem(field: (typeof FIELDS)[number], v: unknown): string | null {
  if (v === undefined) return 'required field is missing';
  if (field !== 'id' && Array.isArray(v)) return messagesProblem(v);
  if (typeof v !== 'string') return `expected ${field === 'id' ? 'a string' : 'a string or a list of chat messages'}, got ${v === null ? 'null' : typeof v}`;
  return v.length === 0 ? 'must not be empty' : null;
}

/** The line's pair once its fields are well-formed: as written, or with the implicit prompt split out of chosen and rejected. */
function pairOf(record: Record<string, unknown>): { pair: PreferencePair; promptMessages: number } | { problem: string } {
  const id = record.id as string;
  if (!isImplicitPrompt(record)) return { pair: { id, prompt: record.prompt, chosen: record.chosen, rejected: record.rejected } as PreferencePair, promptMessages: 0 };
  const split = splitImplicitPrompt(record.chosen as ChatMessage[], record.rejected as ChatMessage[]);
  return 'problem' in split ? { problem: `prompt: ${split.problem}` } : { pair: { id, ...split }, promptMessages: split.prompt.length };
}

/** Problems of a pair's chat replies: messages that are not the assistant's turn, or empty. */
function replyProblems(pair: PreferencePair, promptMessages: number): string[] {
  return SIDES.flatMap((side) => {
    const problem = typeof pair[side] === 'string' ? null : replyMessagesProblem(pair[side], promptMessages + 1);
    return problem ? [`${side}: ${problem}`] : [];
  });
}

/** Problems of chosen against rejected: two forms, or no difference. */
function contrastProblems({ chosen, rejected }: PreferencePair): string[] {
  if (typeof chosen !== typeof rejected) return ['chosen and rejected must be in one form: both text or both chat messages'];
  const same = typeof chosen === 'string' ? chosen === rejected : sameMessages(chosen, rejected as ChatMessage[]);
  return same ? ['chosen and rejected are identical (no preference to learn)'] : [];
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
      // Other columns (a data set's scores, a source tag) are ignored, as TRL ignores them; a pair
      // without an id is named by its line, as an RL data file's rows are.
      if (record.id === undefined) record = { ...record, id: `line-${line}` };
      for (const field of FIELDS) {
        const problem = field === 'prompt' && isImplicitPrompt(record) ? null : fieldProblem(field, record[field]);
        if (problem) lineProblems.push(`${field}: ${problem}`);
      }
      if (lineProblems.length) return { problems: lineProblems };
      const read = pairOf(record);
      if ('problem' in read) return { problems: [read.problem] };
      const { pair } = read;
      const seen = firstLine.get(pair.id);
      if (seen !== undefined) lineProblems.push(`id ${quoteField(pair.id)} is already used on line ${seen}`);
      else firstLine.set(pair.id, line);
      const replies = replyProblems(pair, read.promptMessages);
      lineProblems.push(...replies, ...contrastProblems(pair));
      // A reply that is not the assistant's turn renders as some other turn: its encoding says nothing more.
      if (replies.length === 0) lineProblems.push(...pairProblems(pair, limits));
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
