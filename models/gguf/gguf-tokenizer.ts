/**
 * The tokenizer a GGUF file describes in its metadata, rebuilt as the tokenizer.json and
 * tokenizer_config.json that transformers 5 makes from it (integrations/gguf/gguf_tokenizer_mapping.py,
 * `byte_level_tokenizer` + `add_gguf_special_tokens` + `GPT2Tokenizer`), for byte-level BPE files
 * (`tokenizer.ggml.model` = gpt2):
 *  - vocabulary = `tokenizer.ggml.tokens` by index (a token not spelled in the byte alphabet is
 *    respelled from its UTF-8 bytes), merges = `tokenizer.ggml.merges`;
 *  - ByteLevel pre-tokenizer and decoder (no prefix space);
 *  - tokens typed CONTROL (3) are special added tokens, USER_DEFINED (4) plain added tokens;
 *  - the post-processor from `tokenizer.ggml.add_bos_token` / `add_eos_token` (default false);
 *  - bos/eos/unk/pad tokens and the chat template from the metadata.
 * Files whose pre-tokenizer type needs a split regex (llama-bpe, qwen2, ...) and sentencepiece files
 * are refused by name: they take code paths this rebuild does not carry.
 */
import type { GgufValue } from './gguf-file.js';

/** `tokenizer.ggml.pre` values transformers gives a regex split (gguf_tokenizer_mapping.py): not rebuilt here. */
const SPLIT_PRE_TOKENIZERS = [
  'llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2', 'jina-v5-nano', 'dbrx', 'smaug-bpe',
  'tekken', 'qwen2', 'deepseek-r1-qwen', 'kormo', 'f2llmv2', 'megrez', 'qwen35', 'gpt-4o', 'llama4', 'kanana2', 'talkie', 'minimax-m2',
];

/** GPT-2's byte -> printable character table (printable Latin-1 bytes map to themselves). */
function byteAlphabet(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(keep(b) ? b : next++));
  return table;
}

export interface GgufTokenizerFiles {
  json: Record<string, unknown>;
  config: Record<string, unknown>;
}

export function ggufTokenizer(meta: Map<string, GgufValue>, where: string): GgufTokenizerFiles {
  const model = meta.get('tokenizer.ggml.model');
  if (model !== 'gpt2') throw new Error(`${where}: tokenizer.ggml.model '${String(model)}' is not supported (gpt2, byte-level BPE)`);
  const pre = String(meta.get('tokenizer.ggml.pre') ?? 'default');
  if (SPLIT_PRE_TOKENIZERS.includes(pre)) throw new Error(`${where}: tokenizer.ggml.pre '${pre}' is not supported (its regex split is not rebuilt; use the model's HF folder)`);
  const tokens = meta.get('tokenizer.ggml.tokens');
  const merges = meta.get('tokenizer.ggml.merges');
  const types = (meta.get('tokenizer.ggml.token_type') as number[] | undefined) ?? [];
  if (!Array.isArray(tokens) || !Array.isArray(merges)) throw new Error(`${where}: tokenizer.ggml.tokens and tokenizer.ggml.merges are required`);

  const alphabet = byteAlphabet();
  const spelled = new Set(alphabet);
  const utf8 = new TextEncoder();
  const inAlphabet = (t: string) => [...t].every((c) => spelled.has(c));
  const vocab: Record<string, number> = {};
  (tokens as string[]).forEach((t, i) => {
    vocab[inAlphabet(t) ? t : [...utf8.encode(t)].map((b) => alphabet[b]).join('')] = i;
  });
  const added = (tokens as string[]).flatMap((t, id) => {
    const special = types[id] === 3 && inAlphabet(t);
    const userDefined = types[id] === 4 && t in vocab;
    return special || userDefined ? [{ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special }] : [];
  });

  const text = (key: string) => {
    const id = meta.get(`tokenizer.ggml.${key}`);
    return typeof id === 'number' ? (tokens as string[])[id] : undefined;
  };
  const bos = text('bos_token_id');
  const eos = text('eos_token_id');
  const addBos = meta.get('tokenizer.ggml.add_bos_token') === true && bos !== undefined;
  const addEos = meta.get('tokenizer.ggml.add_eos_token') === true && eos !== undefined;
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const single = [...(addBos ? [special(bos!, 0)] : []), seq('A', 0), ...(addEos ? [special(eos!, 0)] : [])];
  const pair = [...single, ...(addBos ? [special(bos!, 1)] : []), seq('B', 1), ...(addEos ? [special(eos!, 1)] : [])];
  const specialTokens = Object.fromEntries([...(addBos ? [bos!] : []), ...(addEos ? [eos!] : [])].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }]));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { type: 'TemplateProcessing', single, pair, special_tokens: specialTokens },
    decoder: { ...byteLevel, add_prefix_space: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
      byte_fallback: false, ignore_merges: false, vocab, merges: (merges as string[]).map((m) => m.split(' ')),
    },
  };
  const config: Record<string, unknown> = { tokenizer_class: 'TokenizersBackend' };
  for (const [name, key] of [['bos_token', 'bos_token_id'], ['eos_token', 'eos_token_id'], ['unk_token', 'unknown_token_id'], ['pad_token', 'padding_token_id']]) {
    const t = text(key);
    if (t !== undefined) config[name] = t;
  }
  const template = meta.get('tokenizer.chat_template');
  if (typeof template === 'string') config.chat_template = template;
  return { json, config };
}
