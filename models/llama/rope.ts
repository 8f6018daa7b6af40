/**
 * Rotary position settings of a Llama/Qwen2/Mistral config.json, read as transformers 5 reads them
 * (`RotaryEmbeddingConfigMixin.convert_rope_params_to_dict` / `standardize_rope_params`), and the
 * inverse frequencies its rope init functions compute (modeling_rope_utils.py). Keys a type does not
 * use are ignored, as transformers ignores them (it only warns).
 *
 * Two spellings exist. transformers 4.x: top-level `rope_theta` and an optional `rope_scaling` dict
 * ({type | rope_type, factor, ...}). transformers 5: one `rope_parameters` dict holding `rope_type`,
 * `rope_theta` and the scaling fields. Precedence as in transformers: `rope_scaling` (when a non-empty
 * dict) replaces `rope_parameters`; the dict's own `rope_theta` wins over the top-level one, which wins
 * over the default 10000; a top-level `original_max_position_embeddings` wins over the dict's.
 *
 * Types: default; linear (frequencies / factor); dynamic (NTK: equal to default for positions up to
 * max_position_embeddings, and creditflow never goes beyond them); yarn (frequencies blended between
 * interpolation and extrapolation, cos/sin scaled by the attention factor); llama3 (Llama 3.1's
 * wavelength bands). Anything else (longrope, proportional, per-layer dicts, partial rotary factors)
 * is an error naming the field.
 *
 * Frequencies are computed in float32 step by step (Math.fround), as torch computes them.
 */

export type RopeType = 'default' | 'linear' | 'dynamic' | 'yarn' | 'llama3';
const TYPES: RopeType[] = ['default', 'linear', 'dynamic', 'yarn', 'llama3'];

export interface RopeConfig {
  type: RopeType;
  theta: number;
  /** linear, dynamic, yarn, llama3. */
  factor?: number;
  /** yarn, llama3: the pre-training context length. */
  originalMaxPositions?: number;
  /** llama3. */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  /** yarn (all optional, transformers' defaults apply). */
  attentionFactor?: number;
  betaFast?: number;
  betaSlow?: number;
  mscale?: number;
  mscaleAllDim?: number;
  truncate?: boolean;
}

/** Config fields of each type (besides rope_type and rope_theta), with their RopeConfig names. */
const FIELDS: Record<RopeType, { required: [string, keyof RopeConfig][]; optional: [string, keyof RopeConfig][] }> = {
  default: { required: [], optional: [] },
  linear: { required: [['factor', 'factor']], optional: [] },
  dynamic: { required: [['factor', 'factor']], optional: [] },
  yarn: {
    required: [['factor', 'factor'], ['original_max_position_embeddings', 'originalMaxPositions']],
    optional: [['attention_factor', 'attentionFactor'], ['beta_fast', 'betaFast'], ['beta_slow', 'betaSlow'], ['mscale', 'mscale'], ['mscale_all_dim', 'mscaleAllDim'], ['truncate', 'truncate']],
  },
  llama3: {
    required: [['factor', 'factor'], ['low_freq_factor', 'lowFreqFactor'], ['high_freq_factor', 'highFreqFactor'], ['original_max_position_embeddings', 'originalMaxPositions']],
    optional: [],
  },
};

type Raw = Record<string, unknown>;
const isDict = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rope settings of config.json `raw`; `maxPositions` is its max_position_embeddings; `where` names the file. */
export function parseRope(raw: Raw, maxPositions: number, where: string): RopeConfig {
  const fromScaling = isDict(raw.rope_scaling) && Object.keys(raw.rope_scaling).length > 0;
  const key = fromScaling ? 'rope_scaling' : 'rope_parameters';
  const dict = raw[key];
  if (dict != null && !isDict(dict)) throw new Error(`${where}: ${key} must be an object, got ${JSON.stringify(dict)}`);
  const rp: Raw = { ...(dict ?? {}) };
  const field = (name: string) => `${where}: ${name in rp ? `${key}.${name}` : name}`;
  const layerTypes = Array.isArray(raw.layer_types) ? (raw.layer_types as unknown[]) : [];
  const nested = Object.keys(rp).filter((k) => layerTypes.includes(k) || isDict(rp[k]));
  if (nested.length) throw new Error(`${where}: ${key}.${nested[0]}: per-layer rope settings are not supported`);

  const partial = rp.partial_rotary_factor ?? raw.partial_rotary_factor;
  if (partial != null && partial !== 1) throw new Error(`${field('partial_rotary_factor')} ${JSON.stringify(partial)} is not supported (rotary on the whole head only)`);

  const type = String(rp.rope_type ?? rp.type ?? 'default');
  if (!TYPES.includes(type as RopeType)) {
    throw new Error(`${where}: ${key}.${'rope_type' in rp ? 'rope_type' : 'type'} '${type}' is not supported (supported: ${TYPES.join(', ')})`);
  }
  const theta = 'rope_theta' in rp ? rp.rope_theta : (raw.rope_theta ?? 10000);
  if (typeof theta !== 'number' || !(theta > 0)) throw new Error(`${field('rope_theta')} must be a positive number, got ${JSON.stringify(theta)}`);
  const rope: RopeConfig = { type: type as RopeType, theta };

  if (type === 'yarn' || type === 'llama3') {
    // transformers 5 moves the pre-training length into the dict, a top-level key taking priority.
    if (raw.original_max_position_embeddings != null) rp.original_max_position_embeddings = raw.original_max_position_embeddings;
    else rp.original_max_position_embeddings ??= maxPositions;
  }
  const { required, optional } = FIELDS[type as RopeType];
  for (const [name, prop] of [...required, ...optional]) {
    const v = rp[name];
    // yarn with an explicit null factor derives it from the two context lengths, as transformers does.
    if (v == null) {
      if (v === null && type === 'yarn' && name === 'factor') continue;
      if (required.some(([n]) => n === name)) throw new Error(`${where}: ${key}.${name} is required for rope type '${type}'`);
      continue;
    }
    if (prop === 'truncate') {
      if (typeof v !== 'boolean') throw new Error(`${where}: ${key}.${name} must be true or false, got ${JSON.stringify(v)}`);
      rope.truncate = v;
    } else {
      if (typeof v !== 'number' || !(v > 0)) throw new Error(`${where}: ${key}.${name} must be a positive number, got ${JSON.stringify(v)}`);
      (rope as unknown as Record<string, number>)[prop] = v;
    }
  }
  if (type === 'llama3' && rope.highFreqFactor === rope.lowFreqFactor) throw new Error(`${where}: ${key}.high_freq_factor must differ from low_freq_factor`);
  return rope;
}

const f = Math.fround;

/** YaRN's mscale (paper eq. 21). */
function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * Inverse frequencies (headDim/2 of them, float32) and the factor cos/sin are multiplied by, for a
 * head of `headDim` and a model of `maxPositions` positions.
 */
export function ropeFrequencies(rope: RopeConfig, headDim: number, maxPositions: number): { invFreq: Float32Array; attentionScaling: number } {
  const half = headDim / 2;
  let base = rope.theta;
  if (rope.type === 'dynamic') {
    // NTK base at seq_len = max_position_embeddings: (factor · 1 − (factor − 1))^(d/(d−2)) ≈ 1.
    const factor = rope.factor!;
    base = base * ((factor * maxPositions) / maxPositions - (factor - 1)) ** (headDim / (headDim - 2));
  }
  const plain = Float32Array.from({ length: half }, (_, i) => f(1 / f(base ** f((2 * i) / headDim))));
  switch (rope.type) {
    case 'default':
    case 'dynamic':
      return { invFreq: plain, attentionScaling: 1 };
    case 'linear':
      return { invFreq: plain.map((v) => f(v / rope.factor!)), attentionScaling: 1 };
    case 'llama3':
      return { invFreq: llama3(plain, rope), attentionScaling: 1 };
    case 'yarn':
      return yarn(rope, headDim, maxPositions);
  }
}

function llama3(inv: Float32Array, rope: RopeConfig): Float32Array {
  const factor = rope.factor!;
  const low = rope.lowFreqFactor!;
  const high = rope.highFreqFactor!;
  const old = rope.originalMaxPositions!;
  const lowWavelen = old / low;
  const highWavelen = old / high;
  return inv.map((v) => {
    const wavelen = f((2 * Math.PI) / v);
    if (wavelen < highWavelen) return v; // high frequencies: unchanged
    if (wavelen > lowWavelen) return f(v / factor); // low frequencies: interpolated
    const smooth = f(f(f(old / wavelen) - low) / (high - low));
    return f(f(f(f(1 - smooth) * v) / factor) + f(smooth * v));
  });
}

function yarn(rope: RopeConfig, dim: number, maxPositions: number): { invFreq: Float32Array; attentionScaling: number } {
  const base = rope.theta;
  const orig = rope.originalMaxPositions!;
  const factor = rope.factor ?? maxPositions / orig;
  const attentionScaling =
    rope.attentionFactor ?? (rope.mscale && rope.mscaleAllDim ? yarnMscale(factor, rope.mscale) / yarnMscale(factor, rope.mscaleAllDim) : yarnMscale(factor));
  const betaFast = rope.betaFast || 32;
  const betaSlow = rope.betaSlow || 1;
  const correctionDim = (rotations: number) => (dim * Math.log(orig / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  const truncate = rope.truncate ?? true;
  let low = correctionDim(betaFast);
  let high = correctionDim(betaSlow);
  if (truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001; // transformers' guard against a zero-width ramp
  const invFreq = Float32Array.from({ length: dim / 2 }, (_, i) => {
    const pos = f(base ** f((2 * i) / dim));
    const extrapolation = f(1 / pos);
    const interpolation = f(1 / f(factor * pos));
    const ramp = Math.min(1, Math.max(0, f(f(i - low) / f(high - low))));
    const extraFactor = f(1 - ramp);
    return f(f(interpolation * f(1 - extraFactor)) + f(extrapolation * extraFactor));
  });
  return { invFreq, attentionScaling };
}

/**
 * config.json keys for `rope`, in the spelling the source config used (`base`): transformers 5's
 * single `rope_parameters` dict, or 4.x's `rope_theta` (+ `rope_scaling`). Exactly one spelling is
 * written, so no two keys can disagree; the caller removes the other spelling's keys.
 */
export function ropeToHf(rope: RopeConfig, base: Raw): Raw {
  const settings: Raw = {};
  for (const [name, prop] of [...FIELDS[rope.type].required, ...FIELDS[rope.type].optional]) {
    if (rope[prop] !== undefined) settings[name] = rope[prop];
  }
  const newSpelling = base.rope_parameters != null || (base.rope_theta == null && base.rope_scaling == null);
  if (newSpelling) return { rope_parameters: { rope_type: rope.type, rope_theta: rope.theta, ...settings } };
  return { rope_theta: rope.theta, ...(rope.type === 'default' ? {} : { rope_scaling: { rope_type: rope.type, ...settings } }) };
}

/** The config.json keys that carry rope settings (removed before {@link ropeToHf}'s are written). */
export const ROPE_KEYS = ['rope_parameters', 'rope_scaling', 'rope_theta', 'original_max_position_embeddings'];
