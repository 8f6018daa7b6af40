export { parseLlamaConfig, toHfConfig, type LlamaConfig } from './config.js';
export { LlamaModel, llamaParamShapes } from './model.js';
export { HfTokenizer, type HfTokenizerOptions } from './hf-tokenizer.js';
export { loadHfCheckpoint, saveHfCheckpoint, type HfCheckpoint, type SaveHfOptions } from './checkpoint.js';
export { readSafetensors, writeSafetensors, type SafeDtype, type SafeTensor } from './safetensors.js';
