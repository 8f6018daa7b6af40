/**
 * What the compute host does for each run: the model, optimizer and data of every resident run, and
 * the four model steps (warm start, rollout, update, evaluate) keyed by (run, iteration).
 *
 * Each step is idempotent: its output (a weights version, a rollout file, an evaluation file) is
 * written atomically, and a step whose output already exists returns what it recorded. A run that is
 * not resident, or resident at another version, is (re)loaded from its version folder, which is how a
 * run moves to a new worker after a crash. Every random draw comes from a stream derived from
 * (seed, purpose, iteration), so a resumed run draws exactly what the uninterrupted one would.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ExperimentConfig } from '../configs/schema.js';
import { AdamW, CharTokenizer, loadWeights, saveWeights, Transformer } from '../models/index.js';
import { writeFileAtomic } from '../store/atomic-dir.js';
import { readRewards, readRolloutMetrics, readRollouts, rolloutFile, writeRollouts, type RolloutRecord } from '../store/rollout-files.js';
import { readVersion, versionDir, writeVersion } from '../store/weight-versions.js';
import { sampleArithmetic, type ArithmeticExample, type ArithmeticSpec } from '../tasks/arithmetic.js';
import { evaluateAccuracy, grpoUpdate, rollout, sftSteps, type RolloutBatch } from '../tasks/recipe.js';
import { failpoint } from '../store/failpoints.js';
import type { Metrics } from '../workflows/shared.js';
import { deriveRng } from './rng.js';

export interface StepArgs {
  runId: string;
  config: ExperimentConfig;
  runDir: string;
  iteration: number;
}

type Progress = (details: Record<string, number | string>) => void;

class DataError extends Error {
  override name = 'DataError';
}

interface Session {
  config: ExperimentConfig;
  tokenizer: CharTokenizer;
  model: Transformer;
  optimizer: AdamW;
  /** Weights version currently in `model` (iteration whose update produced it; 0 = warm start). */
  version: number;
  train: ArithmeticExample[];
  heldOut: ArithmeticExample[];
}

const taskSpec = (c: ExperimentConfig): ArithmeticSpec => ({
  minDigits: c.task.minDigits, maxDigits: c.task.maxDigits, ops: [...c.task.operations], heldOutFraction: c.task.heldOutFraction,
});

/** Prompts of one iteration: consecutive slices of a per-epoch shuffle of the training set. */
export function promptsForIteration<T>(train: T[], seed: number, iteration: number, perIteration: number): T[] {
  const out: T[] = [];
  const orders = new Map<number, number[]>(); // one shuffle per epoch touched (at most two)
  for (let k = 0; k < perIteration; k++) {
    const position = (iteration - 1) * perIteration + k;
    const epoch = Math.floor(position / train.length);
    let order = orders.get(epoch);
    if (!order) orders.set(epoch, (order = deriveRng(seed, 'data-order', epoch).shuffle(train.map((_, i) => i))));
    out.push(train[order[position % train.length]]);
  }
  return out;
}

const configSha = (c: ExperimentConfig) => createHash('sha256').update(JSON.stringify(c)).digest('hex');

export class RunSessions {
  /** Resident runs, least recently used first (Map keeps insertion order). */
  private readonly resident = new Map<string, Session>();

  constructor(private readonly options: { memoryBudgetBytes: number }) {}

  /** Resident bytes of a run: weights plus AdamW's two moments, float32. */
  private static bytesOf(session: Session): number {
    return session.model.numParams() * 4 * 3;
  }

  private newSession(config: ExperimentConfig): Session {
    const tokenizer = new CharTokenizer();
    const model = new Transformer({ vocabSize: tokenizer.vocabSize, ...config.model }, deriveRng(config.seed, 'init'));
    const spec = taskSpec(config);
    const split = { splitSeed: config.task.splitSeed, sampleSeed: config.task.splitSeed, spec };
    return {
      config, tokenizer, model, version: -1,
      optimizer: new AdamW(model.params, { lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay }),
      train: sampleArithmetic('train', config.task.trainSize, split),
      heldOut: sampleArithmetic('heldout', config.task.evalSize, split),
    };
  }

  /** Runs resident now, least recently used first (for tests and the worker's status). */
  residentRuns(): string[] {
    return [...this.resident.keys()];
  }

  private keep(runId: string, session: Session): void {
    this.resident.delete(runId);
    this.resident.set(runId, session);
    // Evict least recently used runs until the budget holds; the run just used always stays.
    let total = [...this.resident.values()].reduce((a, s) => a + RunSessions.bytesOf(s), 0);
    for (const [id, old] of this.resident) {
      if (total <= this.options.memoryBudgetBytes || id === runId) break;
      total -= RunSessions.bytesOf(old);
      this.dispose(old);
      this.resident.delete(id);
    }
  }

  private dispose(session: Session): void {
    session.model.dispose();
    session.optimizer.dispose();
  }

  /** The run's session holding weights version `version`, loading it from disk when needed. */
  private async sessionAt(args: StepArgs, version: number): Promise<Session> {
    const { runId, runDir, config } = args;
    let session = this.resident.get(runId);
    if (session && session.version === version) {
      this.keep(runId, session);
      return session;
    }
    if (!readVersion(runDir, version)) {
      throw new DataError(`run ${runId}: weights version ${version} is missing or fails its sha256 check in ${join(runDir, 'versions')}`);
    }
    session ??= this.newSession(config);
    await loadWeights(versionDir(runDir, version), session.model, session.optimizer);
    session.version = version;
    this.keep(runId, session);
    return session;
  }

  private async saveVersion(args: StepArgs, session: Session, version: number, result: Record<string, unknown>): Promise<void> {
    const { config } = args;
    await writeVersion(args.runDir, version, async (tmp) => {
      await saveWeights(tmp, session.model, session.optimizer);
      const state = {
        version, seed: config.seed, configSha256: configSha(config),
        // No mutable RNG state to save: every stream is derived from (seed, purpose, iteration).
        rngStreams: ['init', 'sft', 'data-order#<epoch>', 'rollout#<iteration>', 'update#<iteration>'],
        dataCursor: version * config.rollout.promptsPerIteration,
      };
      writeFileSync(join(tmp, 'state.json'), JSON.stringify(state, null, 2));
    }, result);
  }

  async warmStart(args: Omit<StepArgs, 'iteration'>, progress: Progress): Promise<{ runDir: string; accuracy: number; metrics: Metrics }> {
    const { runDir, config } = args;
    const done = readVersion(runDir, 0);
    if (done) return done.meta.result as { runDir: string; accuracy: number; metrics: Metrics };

    mkdirSync(runDir, { recursive: true });
    const yamlText = stringify(config);
    writeFileAtomic(join(runDir, 'config.yaml'), yamlText);
    writeFileAtomic(join(runDir, 'config.yaml.sha256'), `${createHash('sha256').update(yamlText).digest('hex')}  config.yaml\n`);

    const session = this.newSession(config);
    const started = performance.now();
    // One optimizer for the warm start and the RL updates (its moments carry over, as in the tuned
    // recipe); each phase passes its own learning rate per step.
    const rng = deriveRng(config.seed, 'sft');
    const demos = session.train.map((e) => ({ prompt: e.prompt, completion: e.completion }));
    const { steps: total, warmupSteps, batchSize, lr, untilAccuracy } = config.warmStart;
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
        probeAccuracy = evaluateAccuracy(session.model, probe, { maxNewTokens: config.rollout.maxNewTokens, tokenizer: session.tokenizer }).accuracy;
        if (probeAccuracy >= untilAccuracy) break;
      }
    }
    const evaluation = evaluateAccuracy(session.model, session.heldOut, { maxNewTokens: config.rollout.maxNewTokens, tokenizer: session.tokenizer });
    const result = {
      runDir,
      accuracy: evaluation.accuracy,
      metrics: {
        'eval/accuracy': evaluation.accuracy, 'sft/loss': lastLoss, 'sft/steps': step,
        ...(untilAccuracy === undefined ? {} : { 'sft/trainAccuracy': probeAccuracy }),
        'perf/warmStartSeconds': (performance.now() - started) / 1000,
      },
    };
    await this.saveVersion({ ...args, iteration: 0 }, session, 0, result);
    session.version = 0;
    this.keep(args.runId, session);
    return result;
  }

  async rollout(args: StepArgs, progress: Progress): Promise<{ rolloutFile: string; metrics: Metrics }> {
    const { config, iteration } = args;
    const file = rolloutFile(args.runDir, iteration);
    const recorded = readRolloutMetrics(file);
    if (recorded) return { rolloutFile: file, metrics: recorded };

    const session = await this.sessionAt(args, iteration - 1);
    const examples = promptsForIteration(session.train, config.seed, iteration, config.rollout.promptsPerIteration);
    progress({ phase: 'rollout', prompts: examples.length });
    const started = performance.now();
    const batch = rollout(session.model, examples.map((e) => e.prompt), {
      groupSize: config.rollout.groupSize, temperature: config.rollout.temperature, maxNewTokens: config.rollout.maxNewTokens,
      topK: config.rollout.topK, topP: config.rollout.topP, stop: [...config.rollout.stop],
      rng: deriveRng(config.seed, 'rollout', iteration), tokenizer: session.tokenizer,
    });
    const seconds = (performance.now() - started) / 1000;
    const records: RolloutRecord[] = batch.items.map((item, k) => {
      const example = examples[item.promptIndex];
      return {
        id: `${iteration}-${item.promptIndex}-${k % batch.groupSize}`, promptId: example.id, group: item.promptIndex,
        prompt: example.prompt, answer: example.answer, verifier: example.verifier, completion: item.completion,
        promptTokens: item.promptTokens, tokens: item.tokens, logprobs: item.logprobs, entropies: item.entropies, finished: item.finished,
      };
    });
    const metrics = rolloutMetrics(records, seconds);
    writeRollouts(file, records, metrics);
    failpoint('rollout:written');
    return { rolloutFile: file, metrics };
  }

  async update(args: StepArgs, progress: Progress): Promise<{ version: number; metrics: Metrics }> {
    const { config, iteration, runDir } = args;
    const done = readVersion(runDir, iteration);
    if (done) return done.meta.result as { version: number; metrics: Metrics };

    const session = await this.sessionAt(args, iteration - 1);
    const file = rolloutFile(runDir, iteration);
    const rewards = readRewards(file);
    if (!rewards) throw new DataError(`run ${args.runId}: iteration ${iteration} has no rewards file beside ${file}`);
    const records = readRollouts(file);
    const batch = toBatch(records, rewards.map((r) => r.status), config.rollout.groupSize, config.rollout.temperature);
    const scores = new Map(rewards.map((r) => [r.id, r.score]));
    progress({ phase: 'update', sequences: batch.items.length });
    const started = performance.now();
    try {
      const result = grpoUpdate(session.model, session.optimizer, batch, batch.ids.map((id) => scores.get(id) ?? 0), {
        epochs: config.optimizer.epochsPerIteration, miniBatchSize: config.optimizer.miniBatchSize, lr: config.optimizer.lr, maxGradNorm: config.optimizer.maxGradNorm,
        clipLow: config.objective.clipLow, clipHigh: config.objective.clipHigh, aggregation: config.objective.aggregation,
        skipZeroAdvantage: config.objective.dropUniformGroups, rng: deriveRng(config.seed, 'update', iteration),
      });
      const metrics: Metrics = {};
      for (const [k, v] of Object.entries(result.metrics)) metrics[`update/${k}`] = v;
      metrics['perf/updateSeconds'] = (performance.now() - started) / 1000;
      metrics['update/droppedGroups'] = batch.droppedGroups;
      failpoint('update:stepped'); // gradients applied in memory, version not yet on disk
      const recorded = { version: iteration, metrics };
      await this.saveVersion(args, session, iteration, recorded);
      session.version = iteration;
      return recorded;
    } catch (err) {
      // The resident weights may be half-updated: forget them so the retry reloads version i-1.
      this.dispose(session);
      this.resident.delete(args.runId);
      throw err;
    }
  }

  async evaluate(args: StepArgs): Promise<{ accuracy: number; metrics: Metrics }> {
    const { config, iteration, runDir } = args;
    const file = join(runDir, 'evals', `${iteration}.json`);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { accuracy: number; metrics: Metrics };
    } catch { /* not evaluated yet, or torn by a machine crash: evaluate */ }
    const session = await this.sessionAt(args, iteration);
    const started = performance.now();
    const evaluation = evaluateAccuracy(session.model, session.heldOut, { maxNewTokens: config.rollout.maxNewTokens, tokenizer: session.tokenizer });
    const result = {
      accuracy: evaluation.accuracy,
      metrics: { 'eval/accuracy': evaluation.accuracy, 'eval/correct': evaluation.correct, 'eval/total': evaluation.total, 'perf/evalSeconds': (performance.now() - started) / 1000 },
    };
    writeFileAtomic(file, JSON.stringify(result), { durable: false });
    return result;
  }

  release(runId: string): void {
    const session = this.resident.get(runId);
    if (session) this.dispose(session);
    this.resident.delete(runId);
  }
}

function rolloutMetrics(records: RolloutRecord[], seconds: number): Metrics {
  const tokens = records.reduce((a, r) => a + r.tokens.length, 0);
  const entropySum = records.reduce((a, r) => a + r.entropies.reduce((x, y) => x + y, 0), 0);
  const metrics: Metrics = {
    'rollout/completions': records.length,
    'rollout/meanLength': records.length ? tokens / records.length : 0,
    'rollout/entropy': tokens ? entropySum / tokens : 0,
    'rollout/finished': records.length ? records.filter((r) => r.finished).length / records.length : 0,
  };
  if (Number.isFinite(seconds)) {
    metrics['perf/rolloutSeconds'] = seconds;
    metrics['perf/rolloutTokensPerSec'] = seconds > 0 ? tokens / seconds : 0;
  }
  return metrics;
}

/**
 * The update batch. A group with a `skipped` verdict (its gold answer could not be parsed) is left
 * out whole: scoring it 0 would fake a failure, and a partial group would bias its baseline.
 */
function toBatch(records: RolloutRecord[], statuses: string[], groupSize: number, temperature: number): RolloutBatch & { ids: string[]; droppedGroups: number } {
  const skippedGroups = new Set(records.filter((_, i) => statuses[i] === 'skipped').map((r) => r.group));
  const kept = records.filter((r) => !skippedGroups.has(r.group));
  return {
    groupSize, temperature, droppedGroups: skippedGroups.size, ids: kept.map((r) => r.id),
    items: kept.map((r, k) => ({
      promptIndex: Math.floor(k / groupSize), promptTokens: r.promptTokens, tokens: r.tokens, logprobs: r.logprobs,
      entropies: r.entropies, completion: r.completion, finished: r.finished,
    })),
  };
}
