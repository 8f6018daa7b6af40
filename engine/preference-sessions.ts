/**
 * The compute host's side of an offline preference run: the policy, the frozen reference and the
 * optimizer of every resident run, and its model steps, keyed by (run, step):
 *
 *   warmStart            the RL warm start, reused (RunSessions.warmStart), then its weights kept as reference/
 *   trainCriticalModel   cDPO: the positive or negative model, SFT from the warm start on chosen / rejected responses
 *   scoreCriticalTokens  cDPO: s_t of every training pair, once, into scores/critical-tokens.json
 *   scoreTokenRewards    T-REG: r̂_t of every training pair, once, into scores/token-rewards.json
 *   update               one optimizer step of the objective on the next batch of pairs (engine/preference-step.ts) -> weights version `step`
 *   evaluate             greedy held-out accuracy and held-out pair metrics of version `step`
 *
 * Every step is idempotent: its output (a version, a model folder, a scores or evaluation file) is
 * written atomically and a repeated call returns what was recorded. A run that is not resident (a
 * new worker, an eviction, a failed step) reloads from its newest version folder and reference/.
 * Randomness comes from streams derived from (seed, purpose, step), so a resumed run draws what the
 * uninterrupted one would. The preference phase starts a fresh AdamW (the warm start's moments are
 * not carried over, as in the usual SFT -> DPO recipe).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { stringify } from 'yaml';
import { warmStartConfigOf, type PreferenceConfig } from '../configs/preference-schema.js';
import { weightsEveryOf, type ExperimentConfig } from '../configs/schema.js';
import { AdamW, loadWeights, serializeWeights } from '../models/index.js';
import { WEIGHTS_BIN } from '../models/weights-io.js';
import { readVerifiedManifest, writeAtomicDirFiles, writeFileAtomic } from '../store/atomic-dir.js';
import { failpoint } from '../store/failpoints.js';
import { evaluationFile, recordedEvaluation } from '../store/recorded-steps.js';
import {
  criticalModelDir, readPairs, readTokenScores, referenceDir, writeTokenScores, type CriticalModelRole, type TokenScores,
} from '../store/preference-files.js';
import { verifiedStateDir, versionDir, writeVersion } from '../store/weight-versions.js';
import type { RewardMix } from '../rewards/mix.js';
import { evaluateRows } from '../tasks/evaluation.js';
import type { PreferencePair } from '../tasks/preference-pairs.js';
import { sftSteps } from '../tasks/recipe.js';
import type { Row } from '../tasks/rows.js';
import { runRows } from './run-rows.js';
import type { Metrics } from '../common/metrics.js';
import { batchIndices } from './preference-batch.js';
import { preferenceStep, type PreferenceStepModels } from './preference-step.js';
import { newMaskHead, withMaskHead } from './sparse-mask-head.js';
import type { CausalLM } from '../models/causal-lm.js';
import { policyFrame } from './policy.js';
import { runTokenizer } from './run-tokenizer.js';
import { plannedShape, preferenceBatchOf } from './run-batch.js';
import { decoderShape, transientBytesOrRefuse, type DecoderShape } from './run-memory.js';
import { heldOutPairMetrics } from './preference-eval.js';
import { computeCriticalScores, computeTokenRewards } from './preference-scores.js';
import { MemoryBudget, ResidentRuns } from './memory-budget.js';
import { deriveRng } from '../common/rng.js';

export interface PreferenceArgs {
  runId: string;
  config: PreferenceConfig;
  runDir: string;
}

type Progress = (details: Record<string, number | string>) => void;
type WarmStartResult = { runDir: string; accuracy: number; metrics: Metrics };

/** What the preference side needs of the RL sessions: their warm start. */
export interface WarmStarter {
  warmStart(args: { runId: string; config: ExperimentConfig; runDir: string }, progress: Progress): Promise<WarmStartResult>;
  release(runId: string): void;
}

class DataError extends Error {
  override name = 'DataError';
}

/** A resident run: the models a step trains (tokenizer, policy, reference, mask head, trainable, optimizer), and its data. */
interface Session extends PreferenceStepModels {
  config: PreferenceConfig;
  /** Weights version in `policy` (the step that produced it; 0 = warm start). */
  version: number;
  train: PreferencePair[];
  heldOut: PreferencePair[];
  /** The held-out rows of `data` (the run's copy, written by the warm start), and the reward mix that judges them. */
  heldOutProblems: Row[];
  mix: RewardMix;
  files: { criticalTokens?: TokenScores; tokenRewards?: TokenScores };
  /** What this run's steps need on top of its resident bytes (engine/run-memory.ts). */
  transientBytes: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const prefixed = (prefix: string, metrics: Record<string, number>): Metrics =>
  Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${prefix}/${k}`, v]));

/** config.yaml is the config as run: the preference config, not the RL one the reused warm start writes. */
function writeRunConfig(runDir: string, config: PreferenceConfig): void {
  const yamlText = stringify(config);
  writeFileAtomic(join(runDir, 'config.yaml'), yamlText);
  writeFileAtomic(join(runDir, 'config.yaml.sha256'), `${sha256(yamlText)}  config.yaml\n`);
}

/** The run's tokenizer: the built-in model's over the warm start's alphabet, or the checkpoint's. */
const tokenizerOf = (config: PreferenceConfig) => runTokenizer(warmStartConfigOf(config));

/** A model of the run's architecture, for the caller to load a weights folder into (engine/policy.ts). */
const newModel = (config: PreferenceConfig): Promise<CausalLM> => policyFrame(warmStartConfigOf(config));

/** Refuse a run this host cannot hold (engine/run-memory.ts); else the bytes its steps need on top. */
const refuseUnfit = (runId: string, config: PreferenceConfig, shape: DecoderShape, limitBytes: number): number =>
  transientBytesOrRefuse(runId, shape, preferenceBatchOf(config), limitBytes, tf.getBackend());

export class PreferenceSessions {
  /** Resident runs, least recently used first. */
  private readonly resident: ResidentRuns<Session>;

  private readonly budget: MemoryBudget;

  /** `budget`: shared with the host's RL sessions; else one of `memoryBudgetBytes` (default 2 GiB). */
  constructor(private readonly options: { runs: WarmStarter; memoryBudgetBytes?: number; budget?: MemoryBudget }) {
    this.budget = options.budget ?? new MemoryBudget(options.memoryBudgetBytes ?? 2 ** 31);
    this.resident = new ResidentRuns(this.budget, 'pref', PreferenceSessions.bytesOf, PreferenceSessions.dispose, (s) => s.transientBytes);
  }

  residentRuns(): string[] {
    return this.resident.runs();
  }

  /** Weights, AdamW's two moments and the reference, float32. */
  private static bytesOf(s: Session): number {
    return s.policy.numParams() * 4 * 4;
  }

  private static dispose(s: Session): void {
    s.policy.dispose();
    s.reference.dispose();
    s.maskHead?.dispose();
    s.optimizer.dispose();
  }

  release(runId: string): void {
    this.resident.drop(runId);
  }

  /** The run's session at weights version `version`, (re)loaded from disk unless resident there. */
  private async sessionAt(args: PreferenceArgs, version: number): Promise<Session> {
    const { runId, runDir, config } = args;
    const resident = this.resident.get(runId);
    if (resident && resident.version === version) {
      this.resident.keep(runId, resident);
      return resident;
    }
    if (resident) this.release(runId); // another version: reload, optimizer moments included
    const state = verifiedStateDir(runDir, version);
    // A version that recorded its result only (run.weightsEvery) is recomputed like a lost one.
    if (!state || !(WEIGHTS_BIN in state.manifest.files)) return this.rebuild(args, version);
    if (!readVerifiedManifest(referenceDir(runDir))) throw new DataError(`run ${runId}: the reference weights ${referenceDir(runDir)} are missing or fail their sha256 check`);
    const rlConfig = warmStartConfigOf(config);
    const planned = plannedShape(rlConfig);
    if (planned) refuseUnfit(runId, config, planned, this.budget.limitBytes);
    const tokenizer = runTokenizer(rlConfig);
    const rows = runRows(rlConfig, runDir, tokenizer);
    const limits = { tokenizer, maxSeqLen: config.model.maxSeqLen };
    const policy = await newModel(config);
    const shape = decoderShape(policy);
    let reference: CausalLM;
    let transientBytes: number;
    try {
      transientBytes = refuseUnfit(runId, config, shape, this.budget.limitBytes);
      reference = await newModel(config);
    } catch (err) {
      policy.dispose();
      throw err;
    }
    const o = config.objective;
    const maskHead = o.name === 'sparse-po' && o.mask === 'learned'
      ? newMaskHead({ layers: shape.layers, width: shape.hidden, seed: deriveRng(config.seed, 'mask-head').int(2 ** 30), dropout: o.maskDropout })
      : undefined;
    const trainable = maskHead ? withMaskHead(policy, maskHead) : policy;
    const optimizer = new AdamW(trainable.params, { lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay });
    const session: Session = {
      config, tokenizer, policy, reference, maskHead, trainable, optimizer, version,
      train: readPairs(runDir, 'train', limits), heldOut: readPairs(runDir, 'heldout', limits),
      heldOutProblems: rows.heldOut, mix: rows.mix,
      files: { criticalTokens: readTokenScores(runDir, 'critical-tokens') ?? undefined, tokenRewards: readTokenScores(runDir, 'token-rewards') ?? undefined },
      transientBytes,
    };
    try {
      await loadWeights(referenceDir(runDir), reference);
      // Version 0 is the warm start: its SFT moments stay behind (fresh optimizer for the preference phase).
      // The head is in every version after 0, with its moments (engine/sparse-mask-head.ts).
      await loadWeights(state.dir, version === 0 ? policy : trainable, version === 0 ? undefined : optimizer);
    } catch (err) {
      PreferenceSessions.dispose(session);
      throw err;
    }
    this.resident.keep(runId, session);
    return session;
  }

  /**
   * Recompute weights version `version`, missing or failing its hashes (versions are not fsync'd, so
   * a machine crash can tear them) or written without weights (run.weightsEvery): the warm start for
   * 0, else the update of that step from the newest good state with weights before it, recursively. Every step is seeded, so it is the lost version bit for bit.
   */
  private async rebuild(args: PreferenceArgs, version: number): Promise<Session> {
    if (version === 0) {
      await this.options.runs.warmStart({ runId: args.runId, runDir: args.runDir, config: warmStartConfigOf(args.config) }, () => undefined);
      this.options.runs.release(args.runId);
      writeRunConfig(args.runDir, args.config);
      if (!verifiedStateDir(args.runDir, 0)) throw new DataError(`run ${args.runId}: could not rebuild the warm start in ${args.runDir}`);
      return this.sessionAt(args, 0);
    }
    // Stepped again even when the version records its result (one written without weights).
    await this.update({ ...args, step: version }, () => undefined, { redo: true });
    const session = this.resident.get(args.runId);
    if (!session || session.version !== version) throw new DataError(`run ${args.runId}: could not rebuild weights version ${version} in ${args.runDir}`);
    return session;
  }

  async warmStart(args: PreferenceArgs, progress: Progress): Promise<WarmStartResult> {
    const { runId, runDir, config } = args;
    const done = readVerifiedManifest(referenceDir(runDir));
    if (done) return done.meta.result as WarmStartResult;
    // Refused here, naming the preference config's fields, before the warm start's own (RL) check.
    const planned = plannedShape(warmStartConfigOf(config));
    if (planned) refuseUnfit(runId, config, planned, this.budget.limitBytes);
    const result = await this.options.runs.warmStart({ runId, runDir, config: warmStartConfigOf(config) }, progress);
    this.options.runs.release(runId);
    writeRunConfig(runDir, config);
    const model = await newModel(config);
    try {
      await loadWeights(versionDir(runDir, 0), model);
      writeAtomicDirFiles(referenceDir(runDir), serializeWeights(model), { result });
    } finally {
      model.dispose();
    }
    return result;
  }

  /** cDPO: SFT of the positive (chosen responses) or negative (rejected responses) model from the warm start. */
  async trainCriticalModel(args: PreferenceArgs & { role: CriticalModelRole }, progress: Progress): Promise<{ metrics: Metrics }> {
    const { runDir, config, role } = args;
    const o = config.objective;
    if (o.name !== 'critical-token-dpo') throw new DataError(`trainCriticalModel: objective ${o.name} has no critical models`);
    const dir = criticalModelDir(runDir, role);
    const done = readVerifiedManifest(dir);
    if (done) return done.meta.result as { metrics: Metrics };
    const tok = tokenizerOf(config);
    const pairs = readPairs(runDir, 'train', { tokenizer: tok, maxSeqLen: config.model.maxSeqLen });
    const demos = pairs.map((p) => ({ prompt: p.prompt, completion: role === 'positive' ? p.chosen : p.rejected }));
    const model = await newModel(config);
    const optimizer = new AdamW(model.params, { lr: o.auxiliary.lr, weightDecay: config.optimizer.weightDecay });
    try {
      await loadWeights(referenceDir(runDir), model);
      const rng = deriveRng(config.seed, `critical-model/${role}`);
      const started = performance.now();
      let loss = NaN;
      for (let step = 0; step < o.auxiliary.steps;) {
        const steps = Math.min(25, o.auxiliary.steps - step);
        const r = sftSteps(model, optimizer, demos, { steps, batchSize: o.auxiliary.batchSize, lr: o.auxiliary.lr, rng, tokenizer: tok, maxGradNorm: config.optimizer.maxGradNorm });
        step += steps;
        loss = r.losses[r.losses.length - 1];
        progress({ phase: `critical-${role}`, step, of: o.auxiliary.steps, loss });
      }
      const result = { metrics: { [`critical/${role}Loss`]: loss, [`perf/${role}ModelSeconds`]: (performance.now() - started) / 1000 } };
      writeAtomicDirFiles(dir, serializeWeights(model), { result });
      return result;
    } finally {
      model.dispose();
      optimizer.dispose();
    }
  }

  /** cDPO: s_t of every training pair from the positive and negative models, once. */
  async scoreCriticalTokens(args: PreferenceArgs, progress: Progress): Promise<{ metrics: Metrics }> {
    const { runDir, config } = args;
    const o = config.objective;
    if (o.name !== 'critical-token-dpo') throw new DataError(`scoreCriticalTokens: objective ${o.name} uses no critical-token scores`);
    const done = readTokenScores(runDir, 'critical-tokens');
    if (done) return { metrics: done.metrics };
    const tok = tokenizerOf(config);
    const pairs = readPairs(runDir, 'train', { tokenizer: tok, maxSeqLen: config.model.maxSeqLen });
    const positive = await newModel(config);
    const negative = await newModel(config).catch((err) => {
      positive.dispose();
      throw err;
    });
    try {
      for (const [role, model] of [['positive', positive], ['negative', negative]] as const) {
        const dir = criticalModelDir(runDir, role);
        if (!readVerifiedManifest(dir)) throw new DataError(`scoreCriticalTokens: the ${role} model ${dir} is missing or fails its sha256 check`);
        await loadWeights(dir, model);
      }
      const scores = computeCriticalScores(positive, negative, tok, pairs, o.betaCe, progress);
      writeTokenScores(runDir, 'critical-tokens', scores);
      this.forgetFiles(args.runId);
      return { metrics: scores.metrics };
    } finally {
      positive.dispose();
      negative.dispose();
    }
  }

  /** T-REG: r̂_t of every training pair from the reference under the two contrastive prompts, once. */
  async scoreTokenRewards(args: PreferenceArgs, progress: Progress): Promise<{ metrics: Metrics }> {
    const { runDir, config } = args;
    const o = config.objective;
    if (o.name !== 't-reg') throw new DataError(`scoreTokenRewards: objective ${o.name} uses no token rewards`);
    const done = readTokenScores(runDir, 'token-rewards');
    if (done) return { metrics: done.metrics };
    const session = await this.sessionAt(args, 0);
    const scores = computeTokenRewards(session.reference, session.tokenizer, session.train, o, progress);
    writeTokenScores(runDir, 'token-rewards', scores);
    session.files.tokenRewards = scores;
    return { metrics: scores.metrics };
  }

  /** A resident session read its scores files before they existed: reread them at next use. */
  private forgetFiles(runId: string): void {
    const s = this.resident.get(runId);
    if (s) s.files = {};
  }

  private scoresFor(args: PreferenceArgs, s: Session): Session['files'] {
    const name = s.config.objective.name;
    if (name === 'critical-token-dpo') s.files.criticalTokens ??= readTokenScores(args.runDir, 'critical-tokens') ?? undefined;
    if (name === 't-reg') s.files.tokenRewards ??= readTokenScores(args.runDir, 'token-rewards') ?? undefined;
    return s.files;
  }

  /** One optimizer step on batch `step` of the training pairs; writes weights version `step`. */
  async update(args: PreferenceArgs & { step: number }, progress: Progress, options: { redo?: boolean } = {}): Promise<{ version: number; metrics: Metrics }> {
    const { config, step, runDir } = args;
    const done = verifiedStateDir(runDir, step);
    if (done && !options.redo) return done.manifest.meta.result as { version: number; metrics: Metrics };
    const session = await this.sessionAt(args, step - 1);
    const o = config.objective;
    const { indices, cursor, epoch } = batchIndices(session.train.length, config.seed, step, config.optimizer.batchSize);
    const pairs = indices.map((i) => session.train[i]);
    const B = pairs.length;
    progress({ phase: 'update', step, pairs: B });
    const started = performance.now();
    try {
      const { lr, maxGradNorm, microBatchSize } = config.optimizer;
      const r = preferenceStep(session, pairs, { objective: o, step, microBatchSize, lr, maxGradNorm, files: this.scoresFor(args, session) });
      failpoint('preference-update:stepped'); // gradients applied in memory, version not yet on disk
      const metrics: Metrics = {
        ...prefixed('update', { ...r.metrics, loss: r.loss, gradNorm: r.gradNorm, pairs: B }),
        'data/cursor': cursor, 'data/epoch': epoch,
        'perf/updateSeconds': (performance.now() - started) / 1000,
      };
      const recorded = { version: step, metrics };
      const { checkpointEvery, steps } = config.run;
      const withWeights = step % weightsEveryOf(config) === 0 || step % checkpointEvery === 0 || step === steps;
      writeVersion(runDir, step, {
        ...(withWeights ? serializeWeights(session.trainable, session.optimizer) : {}),
        'state.json': JSON.stringify({
          weights: withWeights,
          version: step, seed: config.seed, configSha256: sha256(JSON.stringify(config)), objective: o.name,
          // The data cursor: pairs consumed so far, in the per-epoch order of stream (seed, 'preference-order', epoch).
          dataCursor: cursor, epoch, trainPairs: session.train.length,
          rngStreams: ['init', 'sft', 'preference-order#<epoch>', 'critical-model/<role>'],
        }, null, 2),
      }, recorded);
      session.version = step;
      return recorded;
    } catch (err) {
      // The resident weights may be half-updated: forget them so a retry reloads version step − 1.
      this.release(args.runId);
      throw err;
    }
  }

  /** Held-out accuracy (greedy) and held-out pair metrics of weights version `step`. */
  async evaluate(args: PreferenceArgs & { step: number }): Promise<{ accuracy: number; metrics: Metrics }> {
    const { config, step, runDir } = args;
    const recorded = recordedEvaluation(runDir, step);
    if (recorded) return recorded;
    const session = await this.sessionAt(args, step);
    const started = performance.now();
    const evaluation = await evaluateRows(session.policy, session.heldOutProblems, { maxNewTokens: config.evaluation.maxNewTokens, tokenizer: session.tokenizer, mix: session.mix });
    const result = {
      accuracy: evaluation['eval/accuracy'],
      metrics: {
        ...evaluation,
        ...heldOutPairMetrics(session.policy, session.reference, session.tokenizer, session.heldOut, config.objective.beta),
        'perf/evalSeconds': (performance.now() - started) / 1000,
      },
    };
    writeFileAtomic(evaluationFile(runDir, step), JSON.stringify(result), { durable: false });
    return result;
  }
}
