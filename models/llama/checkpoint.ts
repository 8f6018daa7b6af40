/**
 * Hugging Face checkpoint folders of Llama/Qwen2/Mistral-style decoders:
 *   config.json                      model hyper-parameters (models/llama/config.ts)
 *   model.safetensors                weights, or several shards listed by
 *   model.safetensors.index.json     { "weight_map": { tensor name: shard file } }
 *   tokenizer.json (+ tokenizer_config.json, chat_template.jinja)   optional (models/llama/hf-tokenizer.ts)
 *   generation_config.json           optional: the EOS ids generation stops at
 *
 * Loading keeps each tensor's stored dtype (F32/F16/BF16); saving writes every tensor back in that
 * dtype (or one chosen for all), into a single model.safetensors, and copies config.json's unknown
 * keys through (rope settings rewritten in the source's spelling, see config.ts), and the tokenizer
 * and generation files. So load -> save reproduces the tensors byte for byte, and transformers reads
 * the saved folder as the model that was trained. Atomic folder writes are the
 * checkpoint store's job (store/), as for models/weights-io.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLlamaConfig, toHfConfig, type LlamaConfig } from './config.js';
import { HfTokenizer } from './hf-tokenizer.js';
import { llamaParamShapes, LlamaModel } from './model.js';
import { readSafetensors, writeSafetensors, type SafeDtype, type SafeTensor } from './safetensors.js';

export interface HfCheckpoint {
  model: LlamaModel;
  config: LlamaConfig;
  /** config.json as read (unknown keys are written back by {@link saveHfCheckpoint}). */
  rawConfig: Record<string, unknown>;
  /** Stored dtype of each parameter. */
  dtypes: Map<string, SafeDtype>;
  /** Present when the folder has a tokenizer.json. */
  tokenizer?: HfTokenizer;
  /** generation_config.json as read, if present. */
  generationConfig?: Record<string, unknown>;
}

/** Tensors a checkpoint may hold that the model does not use. */
const IGNORED = [/\.rotary_emb\.inv_freq$/];

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** Load a checkpoint folder: model (trainable variables), config, stored dtypes, and tokenizer if present. */
export async function loadHfCheckpoint(dir: string): Promise<HfCheckpoint> {
  const rawConfig = await readJson(join(dir, 'config.json'));
  const config = parseLlamaConfig(rawConfig, join(dir, 'config.json'));
  const files = await safetensorFiles(dir);
  const tensors = new Map<string, SafeTensor>();
  for (const f of files) {
    const { tensors: part } = readSafetensors(await readFile(join(dir, f)), join(dir, f));
    for (const [name, t] of part) tensors.set(name, t);
  }
  const shapes = new Map(llamaParamShapes(config));
  for (const [name, t] of tensors) {
    if (IGNORED.some((re) => re.test(name)) || (name === 'lm_head.weight' && config.tieEmbeddings)) continue;
    const want = shapes.get(name);
    if (!want) throw new Error(`${dir}: tensor '${name}' is not a parameter of a ${config.modelType} model with this config.json`);
    if (want.join() !== t.shape.join()) throw new Error(`${dir}: tensor '${name}' has shape [${t.shape}], config.json implies [${want}]`);
  }
  for (const name of shapes.keys()) if (!tensors.has(name)) throw new Error(`${dir}: tensor '${name}' missing from ${files.join(', ')}`);
  const model = new LlamaModel(config, new Map([...shapes.keys()].map((n) => [n, tensors.get(n)!.data])));
  const dtypes = new Map([...shapes.keys()].map((n) => [n, tensors.get(n)!.dtype]));
  const generationConfig = (await exists(join(dir, 'generation_config.json'))) ? await readJson(join(dir, 'generation_config.json')) : undefined;
  let tokenizer: HfTokenizer | undefined;
  try {
    tokenizer = loadHfTokenizer(dir, config);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config, rawConfig, dtypes, tokenizer, generationConfig };
}

/**
 * A checkpoint folder's tokenizer (tokenizer.json, tokenizer_config.json, chat_template.jinja, the
 * generation EOS ids), or undefined when it has no tokenizer.json. Without the weights: data
 * validation needs it before any compute (engine/run-tokenizer.ts).
 */
export function loadHfTokenizer(dir: string, config: LlamaConfig): HfTokenizer | undefined {
  if (!existsSync(join(dir, 'tokenizer.json'))) return undefined;
  const json = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  const generationConfig = existsSync(join(dir, 'generation_config.json')) ? json('generation_config.json') : undefined;
  const where = join(dir, 'generation_config.json');
  try {
    return new HfTokenizer({
      json: json('tokenizer.json'),
      config: existsSync(join(dir, 'tokenizer_config.json')) ? json('tokenizer_config.json') : {},
      chatTemplate: existsSync(join(dir, 'chat_template.jinja')) ? readFileSync(join(dir, 'chat_template.jinja'), 'utf8') : undefined,
      generationEos: generationConfig && 'eos_token_id' in generationConfig ? tokenIds(generationConfig.eos_token_id, `${where}: eos_token_id`) : undefined,
      bosTokenId: config.bosTokenId,
      eosTokenIds: config.eosTokenIds,
    });
  } catch (err) {
    throw new Error(`${dir}: ${(err as Error).message}`);
  }
}

function tokenIds(v: unknown, what: string): number[] {
  const list = v == null ? [] : Array.isArray(v) ? v : [v];
  if (!list.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw new Error(`${what} must be a token id or a list of them, got ${JSON.stringify(v)}`);
  return list as number[];
}

async function safetensorFiles(dir: string): Promise<string[]> {
  const index = join(dir, 'model.safetensors.index.json');
  if (await exists(index)) {
    const map = (await readJson(index)).weight_map as Record<string, string> | undefined;
    if (!map) throw new Error(`${index}: no weight_map`);
    return [...new Set(Object.values(map))].sort();
  }
  const all = (await readdir(dir)).filter((f) => f.endsWith('.safetensors')).sort();
  if (all.length === 0) throw new Error(`${dir}: no *.safetensors file`);
  return all;
}

export interface SaveHfOptions {
  /** Write every tensor in this dtype (default: each parameter's `dtypes` entry, else F32). */
  dtype?: SafeDtype;
  dtypes?: Map<string, SafeDtype>;
  /** config.json keys to carry over (e.g. the loaded `rawConfig`). */
  rawConfig?: Record<string, unknown>;
  tokenizer?: HfTokenizer;
  /** generation_config.json to write (e.g. the loaded one). */
  generationConfig?: Record<string, unknown>;
}

/** Write config.json, model.safetensors (and the tokenizer files if given) into `dir`. Returns the paths written. */
export async function saveHfCheckpoint(dir: string, model: LlamaModel, opts: SaveHfOptions = {}): Promise<string[]> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, v] of model.params) {
    tensors.set(name, { dtype: opts.dtype ?? opts.dtypes?.get(name) ?? 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
  }
  await mkdir(dir, { recursive: true });
  const written: [string, string | Uint8Array][] = [
    [join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' })],
    [join(dir, 'config.json'), JSON.stringify(toHfConfig(model.config, opts.rawConfig), null, 2) + '\n'],
  ];
  if (opts.tokenizer) {
    written.push([join(dir, 'tokenizer.json'), JSON.stringify(opts.tokenizer.json) + '\n']);
    written.push([join(dir, 'tokenizer_config.json'), JSON.stringify(opts.tokenizer.tokenizerConfig, null, 2) + '\n']);
    if (opts.tokenizer.chatTemplateFile !== undefined) written.push([join(dir, 'chat_template.jinja'), opts.tokenizer.chatTemplateFile]);
  }
  if (opts.generationConfig) written.push([join(dir, 'generation_config.json'), JSON.stringify(opts.generationConfig, null, 2) + '\n']);
  for (const [path, data] of written) await writeFile(path, data);
  return written.map(([p]) => p);
}
