/**
 * Rollout files: `rollouts/<iteration>.jsonl`, one sampled completion a line, and beside it
 * `<iteration>.rewards.json` with the verifier's verdict for each, and `<iteration>.metrics.json` with
 * the rollout step's metrics. Each written once, atomically but not durably (see atomic-dir.ts):
 * all of them are recomputed, identically, if a machine crash loses or tears them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PartVerdict, RewardCase } from '../rewards/mix.js';
import type { CodeLanguage, CodeTest, VerifyStatus } from '../rewards/types.js';
import { readRecordedJson, writeFileAtomic } from './atomic-dir.js';

export interface RolloutRecord {
  /** `<iteration>-<prompt index>-<sample index>`; unique within the run. */
  id: string;
  promptId: string;
  /** Completions of one prompt share a group (GRPO's baseline is taken within it). */
  group: number;
  /** The prompt as the model was given it (chat messages rendered by the template). */
  prompt: string;
  /** The row's gold answer ('' when it has none). */
  answer: string;
  /** The row's own verifier, replacing the run's reward mix for it ('' = the mix). */
  verifier: string;
  /** A code row's unit tests and language. */
  tests?: CodeTest[];
  language?: CodeLanguage;
  completion: string;
  promptTokens: number[];
  tokens: number[];
  logprobs: number[];
  entropies: number[];
  finished: boolean;
}

export interface RewardRecord {
  id: string;
  status: VerifyStatus;
  score: number;
  reason: string;
  /** The verdict of each reward of the mix that ran (per-reward metrics). */
  parts?: PartVerdict[];
}

export const rolloutFile = (runDir: string, iteration: number) => join(runDir, 'rollouts', `${iteration}.jsonl`);
export const rewardsFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.rewards.json');
const metricsFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.metrics.json');

/**
 * Write the rollout file and, before it, the rollout step's recorded metrics (timings included) with
 * the file's length, so that asking again for an existing rollout returns what the step measured, and
 * a file torn by a machine crash (these writes are atomic, not fsync'd) is recognised and redone.
 */
export function writeRollouts(path: string, records: RolloutRecord[], metrics: Record<string, number> = {}): void {
  const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileAtomic(metricsFileFor(path), JSON.stringify({ bytes: Buffer.byteLength(text), metrics }), { durable: false });
  writeFileAtomic(path, text, { durable: false });
}

/** Strings end to end, with their lengths: one long string crosses to another thread in one copy. */
export interface PackedStrings {
  text: string;
  lengths: Uint32Array;
}

export function packStrings(strings: string[]): PackedStrings {
  const lengths = new Uint32Array(strings.length);
  for (let i = 0; i < strings.length; i++) lengths[i] = strings[i].length;
  return { text: strings.join(''), lengths };
}

export function unpackStrings({ text, lengths }: PackedStrings): string[] {
  const strings: string[] = [];
  let at = 0;
  for (const n of lengths) strings.push(text.slice(at, (at += n)));
  return strings;
}

/**
 * Rollout records packed for a writer thread: every number in one Float64Array, which moves to the
 * other thread without a copy, and the strings as they are. Turning 1024 demo records into JSON
 * costs the compute host ~2 ms an iteration (formatting doubles); packing and posting them costs a
 * fraction of that. Doubles hold token ids, groups and log-probs exactly, so `unpackRollouts` gives
 * back equal records and the file is byte for byte what `writeRollouts` would write.
 *
 * A record whose prompt is the previous record's (the rest of its group) sends it only once: posting
 * a string costs the same whether it repeats or not, and the demo's 1024 records hold 128 prompts.
 */
export interface PackedRollouts {
  /**
   * Per record: id, completion, then promptId, prompt, answer, verifier and the code row's tests and
   * language as JSON ('' when none) unless the prompt is shared.
   */
  strings: string[];
  /**
   * Per record: group, finished (0/1), shared prompt (0/1), the lengths of tokens, logprobs and
   * entropies, then (unless shared) promptTokens' length and promptTokens, then the three arrays.
   */
  numbers: Float64Array;
}

/** Whether record `r` has the prompt of `previous`, as the very same prompt tokens (the rollout's grouping). */
const sharesPrompt = (r: RolloutRecord, previous: RolloutRecord | undefined): boolean =>
  previous !== undefined && r.promptTokens === previous.promptTokens && r.promptId === previous.promptId && r.prompt === previous.prompt &&
  r.answer === previous.answer && r.verifier === previous.verifier && r.tests === previous.tests && r.language === previous.language;

/** A record's code fields as one string ('' when it has none). */
const codeOf = (r: Pick<RolloutRecord, 'tests' | 'language'>) => (r.tests || r.language ? JSON.stringify({ tests: r.tests, language: r.language }) : '');

export function packRollouts(records: RolloutRecord[]): PackedRollouts {
  // Index loops, not `entries()`: this runs once a rollout, too few times to be optimised, and an
  // unoptimised iterator allocates a pair per record.
  let size = 0;
  for (let k = 0; k < records.length; k++) {
    const r = records[k];
    size += 6 + r.tokens.length + r.logprobs.length + r.entropies.length;
    if (!sharesPrompt(r, records[k - 1])) size += 1 + r.promptTokens.length;
  }
  const numbers = new Float64Array(size);
  const strings: string[] = [];
  let at = 0;
  for (let k = 0; k < records.length; k++) {
    const r = records[k];
    const shared = sharesPrompt(r, records[k - 1]);
    strings.push(r.id, r.completion);
    if (!shared) strings.push(r.promptId, r.prompt, r.answer, r.verifier, codeOf(r));
    numbers[at++] = r.group;
    numbers[at++] = r.finished ? 1 : 0;
    numbers[at++] = shared ? 1 : 0;
    numbers[at++] = r.tokens.length;
    numbers[at++] = r.logprobs.length;
    numbers[at++] = r.entropies.length;
    if (!shared) {
      numbers[at++] = r.promptTokens.length;
      at = copyInto(numbers, r.promptTokens, at);
    }
    at = copyInto(numbers, r.tokens, at);
    at = copyInto(numbers, r.logprobs, at);
    at = copyInto(numbers, r.entropies, at);
  }
  return { strings, numbers };
}

/** Copy `values` into `into` from `at`; returns the index after them. A loop: `set` from a JS array takes a slow generic path. */
function copyInto(into: Float64Array, values: number[], at: number): number {
  for (let i = 0; i < values.length; i++) into[at + i] = values[i];
  return at + values.length;
}

export function unpackRollouts({ strings, numbers }: PackedRollouts): RolloutRecord[] {
  const records: RolloutRecord[] = [];
  let at = 0;
  let s = 0;
  const list = (n: number) => Array.from(numbers.subarray(at, (at += n)));
  while (s < strings.length) {
    const id = strings[s++];
    const completion = strings[s++];
    const group = numbers[at++];
    const finished = numbers[at++] === 1;
    const shared = numbers[at++] === 1;
    const lengths = [numbers[at++], numbers[at++], numbers[at++]];
    const previous = records[records.length - 1];
    let prompt: Pick<RolloutRecord, 'promptId' | 'prompt' | 'answer' | 'verifier' | 'tests' | 'language' | 'promptTokens'>;
    if (shared) prompt = previous;
    else {
      const [promptId, text, answer, verifier, code] = [strings[s++], strings[s++], strings[s++], strings[s++], strings[s++]];
      prompt = { promptId, prompt: text, answer, verifier, ...(code ? JSON.parse(code) as Pick<RolloutRecord, 'tests' | 'language'> : {}), promptTokens: list(numbers[at++]) };
    }
    const [tokens, logprobs, entropies] = lengths.map(list);
    records.push(rolloutRecord({ id, group, completion, tokens, logprobs, entropies, finished }, prompt));
  }
  return records;
}

/**
 * A record with its keys in one fixed order (JSON keeps it), whoever builds it: the compute host,
 * or the writer thread unpacking what the host packed, so that both write the same bytes.
 */
export function rolloutRecord(
  sample: Pick<RolloutRecord, 'id' | 'group' | 'completion' | 'tokens' | 'logprobs' | 'entropies' | 'finished'>,
  row: Pick<RolloutRecord, 'promptId' | 'prompt' | 'answer' | 'verifier' | 'tests' | 'language' | 'promptTokens'>,
): RolloutRecord {
  return {
    id: sample.id, promptId: row.promptId, group: sample.group, prompt: row.prompt, answer: row.answer, verifier: row.verifier,
    ...(row.tests !== undefined ? { tests: row.tests } : {}), ...(row.language !== undefined ? { language: row.language } : {}),
    completion: sample.completion, promptTokens: row.promptTokens, tokens: sample.tokens, logprobs: sample.logprobs, entropies: sample.entropies, finished: sample.finished,
  };
}

/** What the reward mix needs of a record: the completion, the row's answer, tests and verifier, and whether it was cut off. */
export function rewardCaseOf(r: RolloutRecord): RewardCase {
  return { completion: r.completion, answer: r.answer, tests: r.tests, language: r.language, verifier: r.verifier || undefined, truncated: !r.finished };
}

/** The recorded metrics of a complete rollout file; null when it is missing, torn, or unrecorded. */
export function readRolloutMetrics(path: string): Record<string, number> | null {
  // Checked first: a step planned ahead asks before every rollout it makes, and a failed read's
  // exception cost ~0.1 ms of the compute host's iteration.
  if (!existsSync(metricsFileFor(path))) return null;
  try {
    const recorded = JSON.parse(readFileSync(metricsFileFor(path), 'utf8')) as { bytes: number; metrics: Record<string, number> };
    return statSync(path).size === recorded.bytes ? recorded.metrics : null;
  } catch {
    return null;
  }
}

export function readRollouts(path: string): RolloutRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RolloutRecord);
}

/**
 * Verdicts stored once each, and each record's index among them. Many records share a verdict:
 * scoreInline stores each verdict value once, and the demo's 1024 completions take three values.
 */
export interface DistinctVerdicts {
  status: VerifyStatus[];
  score: number[];
  reason: string[];
  parts: PartVerdict[][];
  /** Record k's verdict is number of[k]. */
  of: Int32Array;
}

/** The reward records of `ids`, in order, from their distinct verdicts. */
export function rewardRecords(ids: string[], verdicts: DistinctVerdicts): RewardRecord[] {
  const { status, score, reason, parts, of } = verdicts;
  return ids.map((id, k) => ({ id, status: status[of[k]], score: score[of[k]], reason: reason[of[k]], parts: parts[of[k]] }));
}

/**
 * Reward records packed for a writer thread: the distinct verdicts and the ids end to end. Posting
 * the demo's 1024 record objects cost the compute host ~0.9 ms an iteration, these ~0.5 ms.
 */
export interface PackedRewards extends DistinctVerdicts {
  ids: PackedStrings;
}

/** The verdicts of a rollout file's records, in its order; atomic, so a reader sees all or nothing. */
export function writeRewards(rolloutPath: string, records: RewardRecord[]): void {
  writeFileAtomic(rewardsFileFor(rolloutPath), JSON.stringify(records), { durable: false });
}

/** The verdicts, or null when the file is missing or torn (then scoring runs again). */
export function readRewards(rolloutPath: string): RewardRecord[] | null {
  return readRecordedJson<RewardRecord[]>(rewardsFileFor(rolloutPath));
}
