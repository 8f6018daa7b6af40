/**
 * What the compute host does for each run: the model, optimizer and data of every resident run, and
 * the model steps (warm start, rollout, SPO values, update, evaluate) keyed by (run, iteration).
 *
 * Each step is idempotent: its output (a weights version, a rollout file, an SPO values file, an
 * evaluation file) is written atomically, and a step whose output already exists returns what it
 * recorded. A run that is not resident, or resident at another version, is (re)loaded from its
 * version folder, which is how a run moves to a new worker after a crash. Every random draw comes
 * from a stream derived from (seed, purpose, iteration), so a resumed run draws exactly what the
 * uninterrupted one would.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { lrScheduleOf, weightsEveryOf, type ExperimentConfig } from '../configs/schema.js';
import { AdamW, loadWeights, serializeWeights, type CausalLM, type TextTokenizer } from '../models/index.js';
import { WEIGHTS_BIN } from '../models/weights-io.js';
import { scoreCases, type RewardMix } from '../rewards/mix.js';
import { readVerifiedManifest, writeAtomicDirFiles, writeFileAtomic } from '../store/atomic-dir.js';
import { packRollouts, packStrings, readRewards, readRollouts, rewardCaseOf, rewardRecords, rewardsFileFor, rolloutFile, rolloutRecord, writeRewards, type RewardRecord, type RolloutRecord } from '../store/rollout-files.js';
import { readSpoValues, spoValuesFileFor, writeSpoValues, type SpoValuesFile } from '../store/spo-values.js';
import { evaluationFile, recordedEvaluation, recordedRollout } from '../store/recorded-steps.js';
import { readVersion, verifiedStateDir, versionDir } from '../store/weight-versions.js';
import { initDir, readInitWeights } from '../store/init-weights.js';
import { evaluateRows } from '../tasks/evaluation.js';
import { outcomeAdvantages, policyUpdate, rollout, sftSteps, type RolloutBatch } from '../tasks/recipe.js';
import type { Row } from '../tasks/rows.js';
import { spoMonteCarloValues, spoTokenAdvantages } from '../tasks/spo.js';
import { isSpoTree, treeRollout, treeTokenKeep, treeValues, writeTreeOf } from './spo-tree-step.js';
import { failpoint } from '../store/failpoints.js';
import { InlineWriter, type StepWriter } from './background-writer.js';
import type { Metrics } from '../common/metrics.js';
import { MemoryBudget, ResidentRuns } from './memory-budget.js';
import { decoderShape, transientBytesOrRefuse } from './run-memory.js';
import { plannedShape, runBatchOf } from './run-batch.js';
import * as tf from '@tensorflow/tfjs';
import { createPolicy, policyFrame, writePromptSample } from './policy.js';
import { runTokenizer } from './run-tokenizer.js';
import { deriveRng } from '../common/rng.js';
import { mixOf, runRows } from './run-rows.js';
import { scoreInline } from './score-ahead.js';

export interface StepArgs {
  runId: string;
  config: ExperimentConfig;
  runDir: string;
  iteration: number;
}

/**
 * A computed step: its result, and the write of its output (rejects if that write failed). The
 * compute host goes on with its next step while the writer thread writes; a result the workflow
 * sees is handed over only once `written` settles.
 */
export interface ComputedStep<T> {
  result: T;
  written: Promise<void>;
}

type Progress = (details: Record<string, number | string>) => void;

class DataError extends Error {
  override name = 'DataError';
}

interface Session {
  config: ExperimentConfig;
  tokenizer: TextTokenizer;
  model: CausalLM;
  optimizer: AdamW;
  /** Weights version currently in `model` (iteration whose update produced it; 0 = warm start). */
  version: number;
  /** RL optimizer steps taken up to `version` (the learning-rate schedule's position). */
  rlSteps: number;
  /** The frozen warm-start weights, for the KL term; loaded only when objective.klCoef > 0. */
  reference?: CausalLM;
  /** The run's rows (its copy under rows/), and its reward mix. */
  train: Row[];
  heldOut: Row[];
  demos: { prompt: Row['prompt']; completion: string }[];
  mix: RewardMix;
  /** What this run's steps need on top of its resident bytes (engine/run-memory.ts). */
  transientBytes: number;
}

/** The warm-start weights, kept apart from the pruned versions as the KL reference (klCoef > 0 only). */
const referenceDir = (runDir: string) => join(runDir, 'reference');

/**
 * Epoch orders already drawn, by training set, then seed and epoch: an epoch's shuffle serves every
 * iteration in it instead of being drawn again for each (~0.1 ms of the compute host's iteration on
 * the demo's training set). A set's entries are dropped with it; at most four are kept per set.
 */
const epochOrders = new WeakMap<readonly unknown[], Map<string, number[]>>();

function epochOrder(train: readonly unknown[], seed: number, epoch: number): number[] {
  let orders = epochOrders.get(train);
  if (!orders) epochOrders.set(train, (orders = new Map()));
  const key = `${seed}/${epoch}`;
  let order = orders.get(key);
  if (!order) {
    if (orders.size >= 4) orders.clear();
    orders.set(key, (order = deriveRng(seed, 'data-order', epoch).shuffle(train.map((_, i) => i))));
  }
  return order;
}

/** Prompts of one iteration: consecutive slices of a per-epoch shuffle of the training set. */
export function promptsForIteration<T>(train: T[], seed: number, iteration: number, perIteration: number): T[] {
  const out: T[] = [];
  let epoch = -1;
  let order: number[] = [];
  for (let k = 0; k < perIteration; k++) {
    const position = (iteration - 1) * perIteration + k;
    const positionEpoch = Math.floor(position / train.length);
    // Looked up when the epoch changes (at most twice an iteration), not once per prompt.
    if (positionEpoch !== epoch) order = epochOrder(train, seed, (epoch = positionEpoch));
    out.push(train[order[position % train.length]]);
  }
  return out;
}

/** Drop the oldest entries of a cache of the host's recent outputs (insertion order) beyond the last 64. */
function keepRecent(cache: Map<string, unknown> | Set<string>): void {
  while (cache.size > 64) cache.delete(cache.keys().next().value!);
}

const configSha = (c: ExperimentConfig) => createHash('sha256').update(JSON.stringify(c)).digest('hex');

export class RunSessions {
  /** Resident runs, least recently used first (Map keeps insertion order). */
  private readonly resident: ResidentRuns<Session>;
  /** The records of the last rollout this host made, kept so the score-ahead and update steps need not parse it. */
  private lastRollout: { file: string; records: RolloutRecord[] } | null = null;
  /** The verdicts this host scored last (scoreRollout), kept so the update need not parse them. */
  private lastRewards: { file: string; records: RewardRecord[] } | null = null;
  /**
   * Results of the updates this host made (by run folder and version), so that the workflow's
   * request for an update done ahead returns without hashing the version's files again: within the
   * life of this process nothing can tear them. `written` settles when the version is on disk; an
   * entry whose write failed is removed, so the update is done again.
   */
  private readonly madeUpdates = new Map<string, { recorded: { version: number; metrics: Metrics }; written: Promise<void> }>();
  /** The rollouts this host made (by file), so that a rollout done ahead is answered without reading its files. */
  private readonly madeRollouts = new Map<string, { metrics: Metrics; written: Promise<void> }>();
  /**
   * Rollout files this host scored, whose rewards are written or being written. Run-ahead plans the
   * rest of the run again after every request the workflow makes, and each plan starts with steps
   * already done: checking those by parsing their rewards file (1024 verdicts for the demo) cost
   * ~1 ms an iteration on the native backend (CPU profile of the compute host). A failed write
   * removes its entry.
   */
  private readonly scoredFiles = new Set<string>();
  private readonly writer: StepWriter;
  private readonly budget: MemoryBudget;

  /**
   * `budget`: shared with the host's other sessions; else one of `memoryBudgetBytes` (default 2 GiB).
   * `writer`: where outputs are written (the compute host passes a BackgroundWriter); default inline.
   */
  constructor(options: { memoryBudgetBytes?: number; budget?: MemoryBudget; writer?: StepWriter }) {
    const budget = options.budget ?? new MemoryBudget(options.memoryBudgetBytes ?? 2 ** 31);
    this.budget = budget;
    this.resident = new ResidentRuns(budget, 'rl', RunSessions.bytesOf, RunSessions.dispose, (s) => s.transientBytes);
    this.writer = options.writer ?? new InlineWriter();
  }

  /** Resident bytes of a run: weights plus AdamW's two moments, and the reference weights if loaded; float32. */
  private static bytesOf(session: Session): number {
    return session.model.numParams() * 4 * 3 + (session.reference ? session.reference.numParams() * 4 : 0);
  }

  /** `frame`: the model's weights will be loaded from a version, so a checkpoint's own are not read. */
  private async newSession(config: ExperimentConfig, runDir: string, runId: string, frame = false): Promise<Session> {
    const batch = runBatchOf(config);
    // Before loading: a checkpoint folder's config.json gives its parameter count, so a model the
    // wasm heap cannot even hold is refused here, not by `RuntimeError: Aborted()` while loading.
    const planned = plannedShape(config);
    if (planned) transientBytesOrRefuse(runId, planned, batch, this.budget.limitBytes, tf.getBackend());
    const { model, tokenizer } = frame ? { model: await policyFrame(config), tokenizer: runTokenizer(config) } : await createPolicy(config);
    try {
      const transientBytes = transientBytesOrRefuse(runId, decoderShape(model), batch, this.budget.limitBytes, tf.getBackend());
      return {
        config, tokenizer, model, version: -1, rlSteps: 0,
        optimizer: new AdamW(model.params, { lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay }),
        ...runRows(config, runDir, tokenizer),
        transientBytes,
      };
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** Runs resident now, least recently used first (for tests and the worker's status). */
  residentRuns(): string[] {
    return this.resident.runs();
  }

  private static dispose(session: Session): void {
    session.model.dispose();
    session.optimizer.dispose();
    session.reference?.dispose();
  }

  /** The run's session holding weights version `version`, loading it from disk when needed. */
  private async sessionAt(args: StepArgs, version: number): Promise<Session> {
    const { runId, runDir, config } = args;
    let session = this.resident.get(runId);
    if (session && session.version === version) {
      this.resident.keep(runId, session);
      return session;
    }
    await this.writer.settled(versionDir(runDir, version));
    const state = verifiedStateDir(runDir, version);
    // A version that recorded its result only (run.weightsEvery) is recomputed like a lost one.
    if (!state || !(WEIGHTS_BIN in state.manifest.files)) return this.rebuild(args, version);
    session ??= await this.newSession(config, runDir, runId, true);
    await loadWeights(state.dir, session.model, session.optimizer);
    session.version = version;
    const saved = JSON.parse(readFileSync(join(state.dir, 'state.json'), 'utf8')) as { rlSteps?: number };
    session.rlSteps = saved.rlSteps ?? 0;
    this.resident.keep(runId, session);
    return session;
  }

  /**
   * Recompute weights version `version`, missing or failing its hashes (versions are not fsync'd, so
   * a machine crash can tear them) or written without weights (run.weightsEvery), from the newest
   * good state with weights before it: its rollout, rewards and
   * update are redone in order, recursively. Every step is seeded by (seed, iteration), so the result
   * is the lost version bit for bit; existing rollout and rewards files are reused.
   */
  private async rebuild(args: StepArgs, version: number): Promise<Session> {
    const { runId, runDir, config } = args;
    if (version === 0) {
      await this.warmStart(args, () => undefined);
    } else {
      const at = { ...args, iteration: version };
      this.madeRollouts.delete(rolloutFile(runDir, version)); // written by this process, maybe lost since
      const { rolloutFile: file } = await this.rollout(at, () => undefined);
      this.scoredFiles.delete(file); // written by this process, maybe lost since
      if (!this.scoreRollout(at)) {
        const records = this.cachedRollouts(file) ?? readRollouts(file);
        const verdicts = await scoreCases(mixOf(config), records.map(rewardCaseOf));
        writeRewards(file, verdicts.map((v, k) => ({ id: records[k].id, status: v.status, score: v.score, reason: v.reason, parts: v.parts })));
      }
      if (config.objective.name === 'spo') await this.spoValues(at, () => undefined);
      this.madeUpdates.delete(`${runDir}#${version}`); // written by this process, lost since
      // Stepped again even when the version records its result (one written without weights).
      await (await this.computeUpdate(at, () => undefined, { redo: true })).written;
    }
    const session = this.resident.get(runId);
    if (!session || session.version !== version) throw new DataError(`run ${runId}: could not rebuild weights version ${version} in ${runDir}`);
    return session;
  }

  /** The records of the rollout file this host wrote last, if it is `file` (saves parsing it again). */
  cachedRollouts(file: string): RolloutRecord[] | null {
    return this.lastRollout?.file === file ? this.lastRollout.records : null;
  }

  /**
   * Score the rollout of `args.iteration` on this thread ahead of the score activity
   * (score-ahead.ts), when every case may be; true when scored (its rewards file is then written,
   * or being written, by the writer).
   */
  scoreRollout(args: Pick<StepArgs, 'config' | 'runDir' | 'iteration'>): boolean {
    const file = rolloutFile(args.runDir, args.iteration);
    if (this.scoredFiles.has(file) || readRewards(file)) return true;
    const rollouts = this.cachedRollouts(file) ?? readRollouts(file);
    const scored = scoreInline(mixOf(args.config), rollouts);
    if (!scored) return false;
    const ids = rollouts.map((r) => r.id);
    const records = rewardRecords(ids, scored);
    this.lastRewards = { file, records };
    keepRecent(this.scoredFiles.add(file));
    // Nobody waits for it: the update reads the verdicts from memory, and a score activity that
    // looks before it is written scores the rollout again, to the same file.
    this.writer.submit({ op: 'rewards', path: file, packed: { ...scored, ids: packStrings(ids) } }).catch(() => {
      if (this.lastRewards?.records === records) this.lastRewards = null;
      this.scoredFiles.delete(file);
    });
    return true;
  }

  /** The verdicts of a rollout file: the ones this host scored last, else its rewards file's (null if none). */
  private async rewardsOf(file: string): Promise<RewardRecord[] | null> {
    if (this.lastRewards?.file === file) return this.lastRewards.records;
    await this.writer.settled(rewardsFileFor(file));
    return readRewards(file);
  }

  /** The run's KL reference (the warm-start weights), resident beside its model and counted in the budget. */
  private async referenceOf(args: StepArgs, session: Session): Promise<CausalLM> {
    if (session.reference) return session.reference;
    const dir = referenceDir(args.runDir);
    if (!readVerifiedManifest(dir)) throw new DataError(`run ${args.runId}: the KL reference weights are missing or fail their sha256 check in ${dir}`);
    const { model: reference } = await createPolicy(args.config);
    await loadWeights(dir, reference);
    session.reference = reference;
    this.resident.keep(args.runId, session);
    return reference;
  }

  /** Snapshot the session as weights version `version` now; the promise settles once it is written. */
  private saveVersion(args: StepArgs, session: Session, version: number, result: Record<string, unknown>): Promise<void> {
    const { config } = args;
    const state = {
      version, seed: config.seed, configSha256: configSha(config),
      // No mutable RNG state to save: every stream is derived from (seed, purpose, iteration).
      rngStreams: ['init', 'sft', 'data-order#<epoch>', 'rollout#<iteration>', 'spo#<iteration>', 'update#<iteration>'],
      dataCursor: version * config.rollout.promptsPerIteration,
      rlSteps: session.rlSteps,
    };
    const { checkpointEvery, iterations } = config.run;
    const withWeights = version === 0 || version % weightsEveryOf(config) === 0 || version % checkpointEvery === 0 || version === iterations;
    const files = { ...(withWeights ? serializeWeights(session.model, session.optimizer) : {}), 'state.json': JSON.stringify({ ...state, weights: withWeights }, null, 2) };
    return this.writer.submit({ op: 'version', runDir: args.runDir, version, files, result });
  }

  async warmStart(args: Omit<StepArgs, 'iteration'>, progress: Progress): Promise<{ runDir: string; accuracy: number; metrics: Metrics }> {
    const { runDir, config } = args;
    const done = readVersion(runDir, 0);
    if (done) return done.meta.result as { runDir: string; accuracy: number; metrics: Metrics };

    mkdirSync(runDir, { recursive: true });
    const yamlText = stringify(config);
    writeFileAtomic(join(runDir, 'config.yaml'), yamlText);
    writeFileAtomic(join(runDir, 'config.yaml.sha256'), `${createHash('sha256').update(yamlText).digest('hex')}  config.yaml\n`);

    const session = await this.newSession(config, runDir, args.runId);
    writePromptSample(runDir, session.tokenizer, session.train[0].prompt);
    const started = performance.now();
    // Started from another run's weights (`submit --from`): they replace the SFT phase.
    const init = readInitWeights(runDir);
    if (init) await loadWeights(initDir(runDir), session.model);
    // One optimizer for the warm start and the RL updates (its moments carry over, as in the tuned
    // recipe); each phase passes its own learning rate per step.
    const rng = deriveRng(config.seed, 'sft');
    const demos = session.demos;
    const { warmupSteps, batchSize, lr, untilAccuracy } = config.warmStart;
    const total = init ? 0 : config.warmStart.steps;
    // The early-stop check uses training prompts, never the held-out set the run is judged on.
    const probe = session.train.slice(0, 200);
    const probeEvery = 50;
    let lastLoss = NaN;
    let step = 0;
    let probeAccuracy = NaN;
    // Warm-up steps one at a time (their lr ramps), then chunks at the full lr; the shared rng makes
    // this draw exactly what one long call would, while progress is reported between chunks.
    while (step < total) {
      const inWarmup = step < warmupSteps;
      const steps = inWarmup ? 1 : Math.min(25 - (step % 25), total - step); // chunks end on multiples of 25, so every probeEvery-th step is probed
      const r = sftSteps(session.model, session.optimizer, demos, {
        steps, batchSize, rng, tokenizer: session.tokenizer, maxGradNorm: config.optimizer.maxGradNorm,
        lr: inWarmup ? (lr * (step + 1)) / warmupSteps : lr,
      });
      step += steps;
      lastLoss = r.losses[r.losses.length - 1];
      if (!inWarmup || step === warmupSteps) progress({ phase: 'sft', step, of: total, loss: lastLoss });
      if (untilAccuracy !== undefined && step % probeEvery === 0) {
        probeAccuracy = (await evaluateRows(session.model, probe, { maxNewTokens: config.rollout.maxNewTokens, tokenizer: session.tokenizer, mix: session.mix }))['eval/accuracy'];
        if (probeAccuracy >= untilAccuracy) break;
      }
    }
    const evaluation = await this.heldOutMetrics(session, 0);
    const result = {
      runDir,
      accuracy: evaluation['eval/accuracy'],
      metrics: {
        ...evaluation, 'sft/loss': lastLoss, 'sft/steps': step,
        ...(untilAccuracy === undefined ? {} : { 'sft/trainAccuracy': probeAccuracy }),
        ...(init ? { 'init/fromVersion': Number(init.meta.fromVersion) } : {}),
        'perf/warmStartSeconds': (performance.now() - started) / 1000,
      },
    };
    if (config.objective.klCoef > 0) {
      // Before version 0, which marks the warm start done: a run with a version 0 has its reference.
      writeAtomicDirFiles(referenceDir(runDir), serializeWeights(session.model));
    }
    await this.saveVersion({ ...args, iteration: 0 }, session, 0, result);
    session.version = 0;
    this.resident.keep(args.runId, session);
    return result;
  }

  /** The rollout of `args.iteration`, once it is on disk. */
  async rollout(args: StepArgs, progress: Progress): Promise<{ rolloutFile: string; metrics: Metrics }> {
    const { result, written } = await this.computeRollout(args, progress);
    await written;
    return result;
  }

  /** The rollout of `args.iteration`, returned as soon as it is computed, while it is being written. */
  async computeRollout(args: StepArgs, progress: Progress): Promise<ComputedStep<{ rolloutFile: string; metrics: Metrics }>> {
    const { config, iteration } = args;
    const file = rolloutFile(args.runDir, iteration);
    const made = this.madeRollouts.get(file);
    if (made) return { result: { rolloutFile: file, metrics: made.metrics }, written: made.written };
    await this.writer.settled(file);
    const recorded = recordedRollout(args.runDir, iteration);
    if (recorded) return { result: recorded, written: Promise.resolve() };

    const session = await this.sessionAt(args, iteration - 1);
    const examples = promptsForIteration(session.train, config.seed, iteration, config.rollout.promptsPerIteration);
    progress({ phase: 'rollout', prompts: examples.length });
    const started = performance.now();
    // SPO-tree samples a tree per prompt (engine/spo-tree-step.ts); every other objective G completions.
    const tree = isSpoTree(config) ? treeRollout(session.model, examples.map((e) => e.prompt), config, deriveRng(config.seed, 'rollout', iteration), session.tokenizer) : undefined;
    const batch = tree?.batch ?? rollout(session.model, examples.map((e) => e.prompt), {
      groupSize: config.rollout.groupSize, temperature: config.rollout.temperature, maxNewTokens: config.rollout.maxNewTokens,
      topK: config.rollout.topK, topP: config.rollout.topP, stop: [...config.rollout.stop],
      rng: deriveRng(config.seed, 'rollout', iteration), tokenizer: session.tokenizer,
    });
    const seconds = (performance.now() - started) / 1000;
    // What scoring needs of each prompt's row, once per prompt (its group's records share it).
    const rowFields = examples.map((e, i) => ({
      promptId: e.id, prompt: session.tokenizer.renderPrompt(e.prompt), answer: e.answer ?? '', verifier: e.verifier ?? '',
      tests: e.tests, language: e.language, promptTokens: batch.items[i * batch.groupSize].promptTokens,
    }));
    const records: RolloutRecord[] = batch.items.map((item, k) => rolloutRecord({
      id: `${iteration}-${item.promptIndex}-${k % batch.groupSize}`, group: item.promptIndex, completion: item.completion,
      tokens: item.tokens, logprobs: item.logprobs, entropies: item.entropies, finished: item.finished,
    }, rowFields[item.promptIndex]));
    const metrics = rolloutMetrics(records, seconds);
    if (tree) writeTreeOf(file, config, tree.leaves, records);
    const written = this.writer.submit({ op: 'rollouts', path: file, packed: packRollouts(records), metrics });
    const entry = { file, records };
    this.lastRollout = entry;
    keepRecent(this.madeRollouts.set(file, { metrics, written }));
    // A failed write is forgotten, so asking again redoes the rollout; the caller waiting sees the error.
    written.catch(() => {
      if (this.lastRollout === entry) this.lastRollout = null;
      if (this.madeRollouts.get(file)?.written === written) this.madeRollouts.delete(file);
    });
    return { result: { rolloutFile: file, metrics }, written };
  }

  /**
   * SPO's method step: Monte Carlo values at the cutpoints of every completion of the iteration
   * (tasks/spo.ts), sampled with the policy that made the rollout, each continuation scored with the
   * completion's verifier. Written beside the rollout; an existing file is returned.
   */
  async spoValues(args: StepArgs, progress: Progress): Promise<{ valuesFile: string; metrics: Metrics }> {
    const { config, iteration, runDir } = args;
    const rollouts = rolloutFile(runDir, iteration);
    const file = spoValuesFileFor(rollouts);
    const done = readSpoValues(file);
    if (done) return { valuesFile: file, metrics: spoMetrics(done, NaN) };

    const rewards = await this.rewardsOf(rollouts);
    if (!rewards) throw new DataError(`run ${args.runId}: iteration ${iteration} has no rewards file beside ${rollouts}`);
    const records = this.cachedRollouts(rollouts) ?? readRollouts(rollouts);
    // Groups the update leaves out (a skipped verdict) need no values.
    const { kept, rewards: keptRewards } = keptRecords(records, rewards);
    if (isSpoTree(config)) {
      // Node values are the leaves' mean rewards: nothing to sample.
      const out = treeValues(rollouts, iteration, config, kept, keptRewards);
      writeSpoValues(file, out);
      return { valuesFile: file, metrics: spoMetrics(out, 0) };
    }
    const session = await this.sessionAt(args, iteration - 1);
    const { probThreshold, cutpointInterval, samples } = config.objective.spo;
    progress({ phase: 'spo', completions: kept.length });
    const started = performance.now();
    const inputs = kept.map((r, k) => ({ id: r.id, group: r.group, promptTokens: r.promptTokens, tokens: r.tokens, logprobs: r.logprobs, reward: keptRewards[k] }));
    const values = await spoMonteCarloValues(
      session.model,
      inputs,
      // Scored with the run's reward mix, as the score activity scores: quick cases on this thread,
      // anything else on the verifier pool or in sandboxes; a bad completion scores 0.
      async (cases) => (await scoreCases(session.mix, cases.map(({ index, completion, truncated }) => ({
        ...rewardCaseOf(kept[index]), completion, truncated,
      })))).map((v) => v.score),
      {
        probThreshold, cutpointInterval, samples, temperature: config.rollout.temperature, maxNewTokens: config.rollout.maxNewTokens,
        topK: config.rollout.topK, topP: config.rollout.topP, stop: [...config.rollout.stop],
        rng: deriveRng(config.seed, 'spo', iteration), tokenizer: session.tokenizer,
      },
    );
    const out: SpoValuesFile = { iteration, probThreshold, cutpointInterval, samples, continuations: values.continuations, records: values.records };
    writeSpoValues(file, out);
    return { valuesFile: file, metrics: spoMetrics(out, (performance.now() - started) / 1000) };
  }

  /** The update of `args.iteration`, once its weights version is on disk. */
  async update(args: StepArgs, progress: Progress): Promise<{ version: number; metrics: Metrics }> {
    const { result, written } = await this.computeUpdate(args, progress);
    await written;
    return result;
  }

  /** The update of `args.iteration`, returned as soon as it is computed, while its version is being written. */
  async computeUpdate(args: StepArgs, progress: Progress, opts: { redo?: boolean } = {}): Promise<ComputedStep<{ version: number; metrics: Metrics }>> {
    const { config, iteration, runDir } = args;
    const key = `${runDir}#${iteration}`;
    const made = this.madeUpdates.get(key);
    if (made && !opts.redo) return { result: made.recorded, written: made.written };
    await this.writer.settled(versionDir(runDir, iteration));
    const done = readVersion(runDir, iteration);
    if (done && !opts.redo) return { result: done.meta.result as { version: number; metrics: Metrics }, written: Promise.resolve() };

    const session = await this.sessionAt(args, iteration - 1);
    const file = rolloutFile(runDir, iteration);
    const rewards = await this.rewardsOf(file);
    if (!rewards) throw new DataError(`run ${args.runId}: iteration ${iteration} has no rewards file beside ${file}`);
    const records = this.cachedRollouts(file) ?? readRollouts(file);
    const batch = toBatch(records, rewards, config.rollout.groupSize, config.rollout.temperature);
    const objective = config.objective;
    let advantages: number[][];
    let tokenKeep: boolean[][] | undefined;
    if (objective.name === 'spo') {
      const valuesFile = spoValuesFileFor(file);
      const values = readSpoValues(valuesFile);
      if (!values) throw new DataError(`run ${args.runId}: objective spo but iteration ${iteration} has no SPO values file ${valuesFile}`);
      const byId = new Map(values.records.map((r) => [r.id, r]));
      advantages = spoTokenAdvantages(batch.items.map((it, k) => ({ id: batch.ids[k], tokens: it.tokens })), batch.rewards, byId);
      if (isSpoTree(config)) tokenKeep = treeTokenKeep(batch.ids, advantages, byId);
    } else {
      advantages = outcomeAdvantages(batch, batch.rewards, objective.advantage, { std: objective.advantageStd });
    }
    const reference = objective.klCoef > 0 ? await this.referenceOf(args, session) : undefined;
    progress({ phase: 'update', sequences: batch.items.length });
    const started = performance.now();
    try {
      const { optimizer: o } = config;
      const result = policyUpdate(session.model, session.optimizer, batch, advantages, {
        loss: objective.name, epochs: o.epochsPerIteration, miniBatchSize: o.miniBatchSize, microBatchSize: o.microBatchSize,
        lr: o.lr, schedule: lrScheduleOf(config), stepOffset: session.rlSteps, maxGradNorm: o.maxGradNorm,
        clipLow: objective.clipLow, clipHigh: objective.clipHigh, aggregation: objective.aggregation,
        maxCompletionLength: config.rollout.maxNewTokens,
        klCoef: objective.klCoef, reference, forking: objective.forking, spo: objective.spo,
        skipZeroAdvantage: objective.dropUniformGroups, rng: deriveRng(config.seed, 'update', iteration), tokenKeep,
        ...(config.rollout.maskTruncated ? { masked: batch.items.map((it) => !it.finished) } : {}),
      });
      const metrics: Metrics = {};
      for (const [k, v] of Object.entries(result.metrics)) metrics[`update/${k}`] = v;
      metrics['update/meanReward'] = batch.rewards.reduce((a, b) => a + b, 0) / Math.max(batch.rewards.length, 1);
      metrics['perf/updateSeconds'] = (performance.now() - started) / 1000;
      metrics['update/droppedGroups'] = batch.droppedGroups;
      failpoint('update:stepped'); // gradients applied in memory, version not yet on disk
      const recorded = done ? (done.meta.result as { version: number; metrics: Metrics }) : { version: iteration, metrics };
      session.rlSteps += result.metrics.steps;
      // Redone for its weights (rebuild): a recorded version keeps its files and its result.
      const written = done ? Promise.resolve() : this.saveVersion(args, session, iteration, recorded);
      session.version = iteration;
      const entry = { recorded, written };
      keepRecent(this.madeUpdates.set(key, entry));
      // A failed write is forgotten, so asking again redoes the update; the caller waiting sees the error.
      written.catch(() => {
        if (this.madeUpdates.get(key) === entry) this.madeUpdates.delete(key);
      });
      return { result: recorded, written };
    } catch (err) {
      // The resident weights may be half-updated: forget them so the retry reloads version i-1.
      this.resident.drop(args.runId, session);
      throw err;
    }
  }

  async evaluate(args: StepArgs): Promise<{ accuracy: number; metrics: Metrics }> {
    const { config, iteration, runDir } = args;
    const file = evaluationFile(runDir, iteration);
    const recorded = recordedEvaluation(runDir, iteration);
    if (recorded) return recorded;
    const session = await this.sessionAt(args, iteration);
    const started = performance.now();
    const evaluation = await this.heldOutMetrics(session, iteration);
    const result = { accuracy: evaluation['eval/accuracy'], metrics: { ...evaluation, 'perf/evalSeconds': (performance.now() - started) / 1000 } };
    writeFileAtomic(file, JSON.stringify(result), { durable: false });
    return result;
  }

  /** The evaluation metrics of the session's weights on the held-out rows (tasks/evaluation.ts). */
  private heldOutMetrics(session: Session, iteration: number): Promise<Metrics> {
    const { config } = session;
    return evaluateRows(session.model, session.heldOut, {
      tokenizer: session.tokenizer, mix: session.mix, maxNewTokens: config.rollout.maxNewTokens, samples: config.evaluation.samples,
      sampling: {
        temperature: config.rollout.temperature, topK: config.rollout.topK, topP: config.rollout.topP, stop: [...config.rollout.stop],
        rng: deriveRng(config.seed, 'eval-samples', iteration),
      },
    });
  }

  /** Whether the run's model is resident (run-ahead only plans for resident runs). */
  isResident(runId: string): boolean {
    return this.resident.has(runId);
  }

  release(runId: string): void {
    this.resident.drop(runId);
  }
}

function rolloutMetrics(records: RolloutRecord[], seconds: number): Metrics {
  let tokens = 0;
  let entropySum = 0;
  let finished = 0;
  // Index loops: this runs once a rollout, too few times to be optimised, and an unoptimised
  // for-of allocates a result object per element.
  for (let k = 0; k < records.length; k++) {
    const r = records[k];
    tokens += r.tokens.length;
    for (let i = 0; i < r.entropies.length; i++) entropySum += r.entropies[i];
    if (r.finished) finished++;
  }
  const metrics: Metrics = {
    'rollout/completions': records.length,
    'rollout/meanLength': records.length ? tokens / records.length : 0,
    'rollout/entropy': tokens ? entropySum / tokens : 0,
    'rollout/finished': records.length ? finished / records.length : 0,
    // Cut off by the length limit (no EOS): flagged to the verifiers, and masked when rollout.maskTruncated.
    'rollout/truncated': records.length ? (records.length - finished) / records.length : 0,
  };
  if (Number.isFinite(seconds)) {
    metrics['perf/rolloutSeconds'] = seconds;
    metrics['perf/rolloutTokensPerSec'] = seconds > 0 ? tokens / seconds : 0;
  }
  return metrics;
}

function spoMetrics(values: SpoValuesFile, seconds: number): Metrics {
  const cuts = values.records.flatMap((r) => r.cutpoints.map((c, k) => ({ c, v: r.values[k] }))).filter((x) => x.c >= 0);
  const metrics: Metrics = {
    'spo/cutpoints': values.records.length ? cuts.length / values.records.length : 0,
    'spo/continuations': values.continuations,
    'spo/meanValue': cuts.length ? cuts.reduce((a, x) => a + x.v, 0) / cuts.length : 0,
  };
  if (Number.isFinite(seconds)) metrics['perf/spoSeconds'] = seconds;
  return metrics;
}

/**
 * The records the update trains on, with their rewards. A group with a `skipped` verdict (its gold
 * answer could not be parsed) is left out whole: scoring it 0 would fake a failure, and a partial
 * group would bias its baseline. Verdicts come in the records' order (both files are written in
 * it); a verdict that is not its record's is an error, not a reward of 0. The SPO values step uses
 * this too, so it values exactly the completions the update will train on.
 */
function keptRecords(records: RolloutRecord[], verdicts: RewardRecord[]): { kept: RolloutRecord[]; rewards: number[]; droppedGroups: number } {
  if (verdicts.length !== records.length) throw new DataError(`${verdicts.length} verdicts for ${records.length} rollout records`);
  const skippedGroups = new Set<number>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (verdicts[i].id !== r.id) throw new DataError(`verdict ${i} is for ${JSON.stringify(verdicts[i].id)}, its rollout record is ${JSON.stringify(r.id)}`);
    if (verdicts[i].status === 'skipped') skippedGroups.add(r.group);
  }
  const kept: RolloutRecord[] = [];
  const rewards: number[] = [];
  for (let i = 0; i < records.length; i++) {
    if (skippedGroups.has(records[i].group)) continue;
    kept.push(records[i]);
    rewards.push(verdicts[i].score);
  }
  return { kept, rewards, droppedGroups: skippedGroups.size };
}

/** A rollout batch with each completion's id and reward, and how many groups were left out. */
type UpdateBatch = RolloutBatch & { ids: string[]; rewards: number[]; droppedGroups: number };

/** The update batch of the kept records (`keptRecords`), in their order. */
function toBatch(records: RolloutRecord[], verdicts: RewardRecord[], groupSize: number, temperature: number): UpdateBatch {
  const { kept, rewards, droppedGroups } = keptRecords(records, verdicts);
  const batch: UpdateBatch = { groupSize, temperature, droppedGroups, ids: [], rewards, items: [] };
  for (let k = 0; k < kept.length; k++) {
    const r = kept[k];
    batch.ids.push(r.id);
    batch.items.push({
      promptIndex: Math.floor(k / groupSize), promptTokens: r.promptTokens, tokens: r.tokens, logprobs: r.logprobs,
      entropies: r.entropies, completion: r.completion, finished: r.finished,
    });
  }
  return batch;
}
