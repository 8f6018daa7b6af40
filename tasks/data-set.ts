/**
 * A run's rows, from its config: drawn from a built-in generator or read from JSONL files, split into
 * training and held-out rows, with the warm start's demonstrations, and every row checked against
 * the run (its tokenizer and context, its rewards) before anything trains. The only place that
 * knows which data source a run uses: below this, everything works on rows.
 *
 *  - generators (`data.source: arithmetic | word-problems`): `trainSize` rows from the training side
 *    of the split, `evalSize` from the held-out side, drawn with the split seed;
 *  - file (`data.source: file`): the rows of `data.path`; held-out rows from `data.heldOut.path`, or
 *    the `heldOut.fraction` of the file chosen by a hash of (seed, id), so a row stays on its side
 *    when the file grows;
 *  - demonstrations: `warmStart.path` when given, else the training rows that have a `completion`;
 *    none when `warmStart.steps` is 0.
 */
import { deriveRng } from '../common/rng.js';
import type { ExperimentConfig } from '../configs/schema.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import { mixFromEntries, type RewardMix } from '../rewards/mix.js';
import { sampleArithmetic } from './arithmetic.js';
import { DataError } from './data-error.js';
import { rowChecker } from './row-checks.js';
import { loadRowsJsonl, type Row } from './rows.js';
import { sampleWordProblems } from './word-problems.js';

/** The reward mix of a run's config. */
export const runRewardMix = (config: Pick<ExperimentConfig, 'rewards'>): RewardMix => mixFromEntries(config.rewards.mode, config.rewards.mix);

export interface RunData {
  train: Row[];
  heldOut: Row[];
  /** What the warm start trains on: prompt and demonstration. */
  demos: { prompt: Row['prompt']; completion: string }[];
}

/** Problems listed for generated rows (all share a cause; the first few say it). */
const MAX_LISTED = 50;

type GeneratedData = Exclude<ExperimentConfig['data'], { source: 'file' }>;

/** A generator's rows on one side of its split (errors such as a set too large for its space are DataErrors). */
export function generatedRows(data: GeneratedData, split: 'train' | 'heldout'): Row[] {
  const count = split === 'train' ? data.trainSize : data.evalSize;
  try {
    if (data.source === 'arithmetic') {
      return sampleArithmetic(split, count, {
        splitSeed: data.splitSeed, sampleSeed: data.splitSeed,
        spec: { minDigits: data.minDigits, maxDigits: data.maxDigits, ops: [...data.operations], heldOutFraction: data.heldOutFraction },
      });
    }
    if (data.source === 'word-problems') {
      return sampleWordProblems(split, count, {
        splitSeed: data.splitSeed, sampleSeed: data.splitSeed,
        spec: { kinds: [...data.kinds], maxNumber: data.maxNumber, heldOutFraction: data.heldOutFraction },
      });
    }
  } catch (err) {
    throw new DataError(`generated ${data.source} rows`, [`data: ${(err as Error).message}`]);
  }
  throw new Error(`generatedRows: ${(data as { source: string }).source} is not a generator`);
}

/** Read every file; the problems of all of them in one error. */
function readAll<T>(reads: (() => T)[]): T[] {
  const out: T[] = [];
  const problems: string[] = [];
  let source = '';
  for (const read of reads) {
    try {
      out.push(read());
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      source ||= err.source;
      problems.push(...(problems.length ? err.problems.map((p) => `${err.source} ${p}`) : err.problems));
    }
  }
  if (problems.length) throw new DataError(source, problems);
  return out;
}

/**
 * The run's rows and demonstrations, every one checked.
 * @throws DataError listing each bad line (files) or row (generated)
 */
export function loadRunData(config: ExperimentConfig, tokenizer: TextTokenizer): RunData {
  const { data, warmStart } = config;
  const demosFromRows = warmStart.steps > 0 && warmStart.path === undefined;
  const check = rowChecker({
    tokenizer, maxSeqLen: config.model.maxSeqLen, maxNewTokens: config.rollout.maxNewTokens, mix: runRewardMix(config), demonstrations: demosFromRows,
  });
  let train: Row[];
  let heldOut: Row[];
  if (data.source === 'file') {
    const fields = data.fields;
    const heldOutPath = 'path' in data.heldOut ? data.heldOut.path : undefined;
    [train, heldOut = []] = readAll<Row[]>([
      () => loadRowsJsonl(data.path, { fields, check }),
      ...(heldOutPath ? [() => loadRowsJsonl(heldOutPath, { fields, check })] : []),
    ]);
    if (heldOutPath) {
      const trainIds = new Set(train.map((r) => r.id));
      const shared = heldOut.filter((r) => trainIds.has(r.id)).map((r) => r.id);
      if (shared.length) throw new DataError(heldOutPath, [`${shared.length} held-out id(s) are also training ids (${shared.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}${shared.length > 5 ? ', …' : ''})`]);
    } else {
      const { fraction, seed } = data.heldOut as { fraction: number; seed: number };
      const isHeldOut = (r: Row) => deriveRng(seed, `data-split/${r.id}`).next() < fraction;
      heldOut = train.filter(isHeldOut);
      train = train.filter((r) => !isHeldOut(r));
    }
    if (data.evalSize !== undefined) heldOut = heldOut.slice(0, data.evalSize);
    if (train.length === 0) throw new DataError(data.path, ['no training rows are left once the held-out rows are taken out; add rows or lower data.heldOut.fraction']);
  } else {
    train = generatedRows(data, 'train');
    heldOut = generatedRows(data, 'heldout');
    const problems = [...train, ...heldOut].flatMap((r) => check(r).map((p) => `row ${r.id}: ${p}`));
    if (problems.length) throw new DataError(`generated ${data.source} rows`, problems.slice(0, MAX_LISTED));
  }
  return { train, heldOut, demos: demonstrations(config, tokenizer, train) };
}

function demonstrations(config: ExperimentConfig, tokenizer: TextTokenizer, train: Row[]): RunData['demos'] {
  const { warmStart } = config;
  if (warmStart.steps === 0) return [];
  if (warmStart.path !== undefined) {
    const fields = config.data.source === 'file' ? config.data.fields : {};
    const check = rowChecker({ tokenizer, maxSeqLen: config.model.maxSeqLen, maxNewTokens: 0, mix: { mode: 'sum', terms: [] }, demonstrations: true });
    const rows = loadRowsJsonl(warmStart.path, {
      fields, idOptional: true,
      check: (row) => (row.completion === undefined ? [`${fields.completion ?? 'completion'}: required field is missing`] : check(row)),
    });
    return rows.map((r) => ({ prompt: r.prompt, completion: r.completion! }));
  }
  const demos = train.filter((r) => r.completion !== undefined).map((r) => ({ prompt: r.prompt, completion: r.completion! }));
  if (demos.length === 0) {
    throw new DataError(config.data.source === 'file' ? config.data.path : `generated ${config.data.source} rows`, [
      `warmStart.steps is ${warmStart.steps} but no training row has a completion to learn from; give warmStart.path (a JSONL of {"prompt", "completion"}) or set warmStart.steps: 0`,
    ]);
  }
  return demos;
}
