/**
 * The export check's sample (run by make.ts; args: OUT_DIR OURS_JSON): the tiny Llama-3-rope fixture,
 * its config.json carrying a stale top-level `rope_theta` beside `rope_parameters` (the two-keys
 * situation of issue 17), fine-tuned for a few plain gradient steps on the fixture's sequences, then
 * written by `creditflow export`'s own function (engine/export-checkpoint.ts writeExportFolder) into
 * OUT_DIR. OURS_JSON gets the fine-tuned model's log-probs on those sequences, computed here before
 * export; make.ts has transformers reload OUT_DIR and compare, and commits transformers' numbers as
 * test/fixtures/reference-models/llama3-rope-tiny-finetuned.expected.json.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { writeExportFolder } from '../../engine/export-checkpoint.js';
import { loadCheckpoint } from '../../models/load-checkpoint.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { referencePaths } from './paths.js';

const STEPS = 6;
const LR = 0.05;

/** Mean next-token NLL of `seqs` (all the same length here), through the model's plain forward. */
function nll(model: { forward(t: tf.Tensor2D): tf.Tensor3D; config: { vocabSize: number } }, seqs: number[][]): tf.Scalar {
  const T = Math.min(...seqs.map((s) => s.length));
  const input = tf.tensor2d(seqs.map((s) => s.slice(0, T - 1)), [seqs.length, T - 1], 'int32');
  const target = tf.oneHot(tf.tensor2d(seqs.map((s) => s.slice(1, T)), [seqs.length, T - 1], 'int32'), model.config.vocabSize);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(model.forward(input)), target), -1))) as tf.Scalar;
}

async function main(): Promise<void> {
  const [out, oursPath] = process.argv.slice(2);
  if (!out || !oursPath) throw new Error('usage: export-sample.ts OUT_DIR OURS_JSON');
  await initBackend('wasm');
  const { fixturesDir } = referencePaths();
  const src = join(fixturesDir, 'llama3-rope-tiny');
  const base = mkdtempSync(join(tmpdir(), 'creditflow-export-sample-'));
  for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json']) copyFileSync(join(src, f), join(base, f));
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(base, 'config.json'), JSON.stringify({ ...config, rope_theta: 10000.0 }, null, 2));

  const expected = JSON.parse(readFileSync(join(fixturesDir, 'llama3-rope-tiny.expected.json'), 'utf8')) as { sequences: { ids: number[] }[] };
  const seqs = expected.sequences.map((s) => s.ids);
  const ck = await loadCheckpoint(base);
  try {
    for (let step = 0; step < STEPS; step++) {
      const { value, grads } = tf.variableGrads(() => nll(ck.model, seqs));
      for (const v of ck.model.params.values()) v.assign(tf.tidy(() => tf.sub(v, tf.mul(grads[v.name], LR))));
      console.log(`step ${step}: loss ${value.dataSync()[0].toFixed(4)}`);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const lp = sequenceLogProbs(ck.model, seqs, seqs.map(() => 1), { padId: ck.tokenizer!.pad });
    const rows = lp.logp.arraySync() as number[][];
    tf.dispose([lp.logp, lp.mask, lp.entropies]);
    const files = await writeExportFolder(out, ck, 'F32');
    console.log(`exported ${files.length} files to ${out}`);
    writeFileSync(oursPath, JSON.stringify({ sequences: seqs.map((ids, i) => ({ ids, logprobs: rows[i].slice(0, ids.length - 1) })) }) + '\n');
  } finally {
    ck.model.dispose();
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
