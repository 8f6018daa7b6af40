export { CharTokenizer, ARITHMETIC_ALPHABET, PAD, BOS, EOS, type TokenizerJSON, type EncodeOptions } from './tokenizer.js';
export { Transformer, validateModelConfig, disposeCache, type ModelConfig, type KVCache } from './transformer.js';
export { generate, sampleRow, type GenerateOptions, type Generation } from './generate.js';
export { sequenceLogProbs, type SequenceLogProbs, type LogProbOptions } from './logprobs.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWConfig, type AdamWState, type StepOptions } from './optimizer.js';
export { trainStep, type TrainStepOptions, type TrainStepResult } from './train-step.js';
export { saveWeights, loadWeights, readWeightsManifest, WEIGHTS_BIN, WEIGHTS_JSON, type WeightsManifest, type TensorEntry } from './weights-io.js';
