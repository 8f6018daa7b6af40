/**
 * The TensorFlow.js side of the scale-curve bench (bench/scale.ts): a child process, one backend and
 * one intra-op thread count for its life (libtensorflow fixes both when it loads), that times
 * training steps on request so that bench/scale.ts can interleave them with PyTorch's.
 *
 * Protocol (same as bench/pytorch/scale_server.py): one JSON request per stdin line, one reply per line.
 *   {"op": "train", "model": ModelConfig, "seqs": [[...]], "starts": [...], "steps": n}
 *       -> {"ms": [per-step ms], "tokens": n}   (model, optimizer and batch built once per point, one warm-up step)
 *   {"op": "kernels", same fields} -> {"kernels": n}   (kernels one training step runs, tf.profile)
 *   {"op": "generate", "model": ModelConfig, "prompts": [[...]], "new": n} -> {"ms": total, "tokens": rows x new}
 *       (generate(): greedy, KV cache, no EOS stop; one warm-up run per model)
 *   {"op": "info"} -> {"backend": name, "reason": why, "threads": TF_NUM_INTRAOP_THREADS}
 * The step is the trainer's: packed sequenceLogProbs, token-mean NLL of the response, trainStep
 * (backward, clip 1.0, AdamW).
 */
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend.js';
import { deriveRng } from '../common/rng.js';
import { generate } from '../models/generate.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import { AdamW } from '../models/optimizer.js';
import { trainStep } from '../models/train-step.js';
import { Transformer, type ModelConfig } from '../models/transformer.js';

interface TrainRequest {
  op: 'train' | 'kernels';
  model: ModelConfig;
  seqs: number[][];
  starts: number[];
  steps: number;
}

class Point {
  readonly model: Transformer;
  readonly opt: AdamW;
  readonly tokens: number;
  private readonly respTokens: number;

  constructor(readonly req: TrainRequest) {
    this.model = new Transformer(req.model, deriveRng(1, 'init'));
    this.opt = new AdamW(this.model.params, { lr: 1e-4 });
    this.tokens = req.seqs.reduce((a, s) => a + s.length, 0);
    this.respTokens = req.seqs.reduce((a, s, b) => a + s.length - req.starts[b], 0);
    this.step(); // warm-up
  }

  step(): void {
    const { seqs, starts } = this.req;
    trainStep(
      this.model,
      this.opt,
      () => {
        const o = sequenceLogProbs(this.model, seqs, starts, { packed: true });
        return tf.div(tf.neg(tf.sum(tf.mul(o.logp, o.mask))), this.respTokens) as tf.Scalar;
      },
      { lr: 1e-4, maxGradNorm: 1 },
    );
  }

  dispose(): void {
    this.model.dispose();
    this.opt.dispose();
  }
}

const info = await initBackend();
let point: { key: string; p: Point } | undefined;
let decoder: { key: string; model: Transformer } | undefined;

interface GenerateRequest {
  op: 'generate';
  model: ModelConfig;
  prompts: number[][];
  new: number;
}

function timeGeneration(req: GenerateRequest): { ms: number; tokens: number } {
  const key = JSON.stringify(req.model);
  if (decoder?.key !== key) {
    decoder?.model.dispose();
    decoder = { key, model: new Transformer(req.model, deriveRng(1, 'init')) };
    generate(decoder.model, req.prompts, { maxNewTokens: 2, temperature: 0, eosId: -1 }); // warm-up
  }
  const t0 = performance.now();
  generate(decoder.model, req.prompts, { maxNewTokens: req.new, temperature: 0, eosId: -1 });
  return { ms: performance.now() - t0, tokens: req.prompts.length * req.new };
}

function pointFor(req: TrainRequest): Point {
  const key = JSON.stringify([req.model, req.seqs.length, req.seqs[0]?.length]);
  if (point?.key !== key) {
    point?.p.dispose();
    point = { key, p: new Point(req) };
  }
  return point.p;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const req = JSON.parse(line) as TrainRequest | GenerateRequest | { op: 'info' };
  let out: unknown;
  if (req.op === 'info') out = { backend: info.name, reason: info.reason, threads: process.env.TF_NUM_INTRAOP_THREADS ?? null };
  else if (req.op === 'train') {
    const p = pointFor(req);
    const ms: number[] = [];
    for (let i = 0; i < req.steps; i++) {
      const t0 = performance.now();
      p.step();
      ms.push(performance.now() - t0);
    }
    out = { ms, tokens: p.tokens };
  } else if (req.op === 'kernels') {
    const p = pointFor(req);
    const prof = await tf.profile(() => p.step());
    out = { kernels: prof.kernels.length };
  } else if (req.op === 'generate') out = timeGeneration(req);
  else out = { error: `unknown op ${(req as { op: string }).op}` };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
