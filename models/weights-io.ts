/**
 * Model weights (+ optional AdamW state) as two files in a folder the caller chooses:
 *   weights.json  manifest: format version, model config, optimizer step/config, and per tensor
 *                 { name, shape, dtype, offset, byteLength } into weights.bin
 *   weights.bin   every tensor's float32 data, little-endian, concatenated in manifest order
 * Tensor names: `param/<name>`, `adam_m/<name>`, `adam_v/<name>`. The round trip is byte-exact.
 * Atomic temp-folder + rename, fsync and sha256 manifests are the checkpoint store's job; these
 * functions only write/read the files and report which ones they wrote.
 */
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AdamW, AdamWConfig, AdamWState } from './optimizer.js';
import type { CausalLM } from './causal-lm.js';
import type { ModelConfig } from './transformer.js';

export const WEIGHTS_JSON = 'weights.json';
export const WEIGHTS_BIN = 'weights.bin';
const FORMAT = 'creditflow-weights/1';

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  offset: number;
  byteLength: number;
}

export interface WeightsManifest {
  format: typeof FORMAT;
  /** The model's config as it was saved: the built-in transformer's ModelConfig, or a checkpoint's LlamaConfig. */
  modelConfig: ModelConfig | CausalLM['config'];
  optimizer?: { step: number; config: AdamWConfig };
  tensors: TensorEntry[];
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('weights-io assumes a little-endian host');

/**
 * The weights (and optimizer state, if given) as the two files' contents, by file name: a snapshot
 * taken now, so the model may go on training while the caller writes it (on another thread, even:
 * `weights.bin` owns its ArrayBuffer, so it can be transferred).
 */
export function serializeWeights(model: CausalLM, optimizer?: AdamW): Record<string, Uint8Array | string> {
  // Offsets first (from the shapes), then each tensor's data copied in and dropped: reading every
  // tensor out before copying held the state twice over (3.2 GB for SmolLM2-135M with AdamW).
  const entries: { name: string; shape: number[]; read: () => Float32Array }[] = [];
  for (const [n, v] of model.params) entries.push({ name: `param/${n}`, shape: v.shape, read: () => v.dataSync() as Float32Array });
  let opt: WeightsManifest['optimizer'];
  if (optimizer) {
    opt = { step: optimizer.step, config: optimizer.config };
    for (const [n, v] of model.params) {
      entries.push({ name: `adam_m/${n}`, shape: v.shape, read: () => optimizer.moment('m', n) });
      entries.push({ name: `adam_v/${n}`, shape: v.shape, read: () => optimizer.moment('v', n) });
    }
  }
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const e of entries) {
    const byteLength = e.shape.reduce((a, b) => a * b, 1) * 4;
    tensors.push({ name: e.name, shape: e.shape, dtype: 'float32', offset, byteLength });
    offset += byteLength;
  }
  // Not Buffer.alloc: a small Buffer may share Node's pool, which a transfer would detach.
  const bin = new Uint8Array(offset);
  for (let i = 0; i < entries.length; i++) {
    const d = entries[i].read();
    if (d.byteLength !== tensors[i].byteLength) throw new Error(`serializeWeights: ${entries[i].name} has ${d.byteLength} bytes, its shape says ${tensors[i].byteLength}`);
    bin.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), tensors[i].offset);
  }
  const manifest: WeightsManifest = { format: FORMAT, modelConfig: model.config, ...(opt ? { optimizer: opt } : {}), tensors };
  return { [WEIGHTS_BIN]: bin, [WEIGHTS_JSON]: JSON.stringify(manifest, null, 1) + '\n' };
}

/** Write weights (and optimizer state, if given) into `dir` (created if missing). Returns the paths written. */
export async function saveWeights(dir: string, model: CausalLM, optimizer?: AdamW): Promise<string[]> {
  const files = serializeWeights(model, optimizer);
  await mkdir(dir, { recursive: true });
  const paths = [WEIGHTS_BIN, WEIGHTS_JSON].map((name) => join(dir, name));
  await writeFile(paths[0], files[WEIGHTS_BIN]);
  await writeFile(paths[1], files[WEIGHTS_JSON]);
  return paths;
}

/** Read the manifest of a weights folder (e.g. to build a model of the right config before loading). */
export async function readWeightsManifest(dir: string): Promise<WeightsManifest> {
  const m = JSON.parse(await readFile(join(dir, WEIGHTS_JSON), 'utf8')) as WeightsManifest;
  if (m.format !== FORMAT) throw new Error(`${join(dir, WEIGHTS_JSON)}: unknown format '${String(m.format)}' (want ${FORMAT})`);
  return m;
}

/**
 * Load weights into `model` (and optimizer state into `optimizer`, if given; it is an error when
 * the folder has none). Every parameter must be present with the same shape. Tensors are read one
 * at a time at their offsets, and each weight is assigned as soon as it is read: a 135M model's
 * version (1.6 GB with its moments) is never held whole in memory beside its copies.
 */
export async function loadWeights(dir: string, model: CausalLM, optimizer?: AdamW): Promise<WeightsManifest> {
  const manifest = await readWeightsManifest(dir);
  const file = await open(join(dir, WEIGHTS_BIN), 'r');
  try {
    const size = (await file.stat()).size;
    const byName = new Map(manifest.tensors.map((t) => [t.name, t]));
    /** The entry of tensor `name`, checked against the model's shape and the file's size. */
    const locate = (name: string, shape: number[]) => {
      const e = byName.get(name);
      if (!e) throw new Error(`${dir}: tensor '${name}' missing from ${WEIGHTS_JSON}`);
      if (e.shape.join() !== shape.join()) throw new Error(`${dir}: tensor '${name}' has shape [${e.shape}] but the model wants [${shape}]`);
      if (e.offset + e.byteLength > size || e.byteLength !== shape.reduce((a, b) => a * b, 1) * 4) throw new Error(`${dir}: tensor '${name}' out of bounds of ${WEIGHTS_BIN}`);
      return e;
    };
    const read = async (name: string, shape: number[]): Promise<Float32Array> => {
      const e = locate(name, shape);
      // A fresh buffer is 4-byte aligned; the tensor's offset in the file need not be.
      const out = new Float32Array(e.byteLength / 4);
      const { bytesRead } = await file.read(new Uint8Array(out.buffer), 0, e.byteLength, e.offset);
      if (bytesRead !== e.byteLength) throw new Error(`${dir}: tensor '${name}' cut short in ${WEIGHTS_BIN}`);
      return out;
    };
    if (optimizer && !manifest.optimizer) throw new Error(`${dir}: no optimizer state in ${WEIGHTS_JSON}`);
    // Every tensor is checked before any weight changes, so a bad folder leaves the model as it was.
    for (const [n, v] of model.params) for (const prefix of optimizer ? ['param', 'adam_m', 'adam_v'] : ['param']) locate(`${prefix}/${n}`, v.shape);
    for (const [n, v] of model.params) {
      const data = await read(`param/${n}`, v.shape);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
    if (optimizer) {
      const state: AdamWState = { step: manifest.optimizer!.step, m: {}, v: {} };
      for (const [n, v] of model.params) {
        state.m[n] = await read(`adam_m/${n}`, v.shape);
        state.v[n] = await read(`adam_v/${n}`, v.shape);
      }
      optimizer.importState(state);
    }
    return manifest;
  } finally {
    await file.close();
  }
}
