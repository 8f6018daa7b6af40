export { loadGgufCheckpoint, loadGgufTokenizer } from './gguf-checkpoint.js';
export { readGgufHeader, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf-file.js';
export { dequantize } from './dequantize.js';
export { ggufTokenizer } from './gguf-tokenizer.js';
