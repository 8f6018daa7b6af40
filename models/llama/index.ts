export { parseLlamaConfig, toHfConfig, type LlamaConfig } from './config.js';
export { LlamaModel, llamaParamShapes } from './model.js';
export { HfTokenizer, type HfTokenizerFiles } from './hf-tokenizer.js';
export { parseRope, ropeFrequencies, type RopeConfig } from './rope.js';
export { loadHfCheckpoint, loadHfTokenizer, saveHfCheckpoint, type HfCheckpoint, type SaveHfOptions } from './checkpoint.js';
export { readSafetensors, writeSafetensors, type SafeDtype, type SafeTensor } from './safetensors.js';
