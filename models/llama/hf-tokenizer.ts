/**
 * A Hugging Face `tokenizer.json` (BPE, byte-level BPE, WordPiece, WordLevel, Unigram... whatever
 * `@huggingface/tokenizers` implements, a pure-JS port of the Rust library) behind the
 * {@link TextTokenizer} interface the recipe uses. Works offline from the local files.
 *
 * BOS/EOS are added here, not by the tokenizer's post-processor, so that `encode(text, { bos, eos })`
 * means the same as for the char tokenizer: ids come from config.json (`bos_token_id`,
 * `eos_token_id`) or tokenizer_config.json (`bos_token`, `eos_token`, `pad_token`). A model without
 * a BOS token (Qwen2) gets none; one without a pad token pads with EOS.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { EncodeOptions, PromptInput, TextTokenizer } from '../tokenizer.js';

export interface HfTokenizerOptions {
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
}

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  /** Whether the model has a BOS token (`encode` adds it only then). */
  readonly hasBos: boolean;
  private readonly tok: Tokenizer;

  constructor(
    readonly json: Record<string, unknown>,
    readonly tokenizerConfig: Record<string, unknown> = {},
    ids: HfTokenizerOptions = {},
  ) {
    this.tok = new Tokenizer(json, tokenizerConfig);
    const vocab = this.tok.get_vocab(true);
    this.vocabSize = Math.max(...vocab.values()) + 1;
    const named = (key: string): number | undefined => {
      const v = tokenizerConfig[key];
      const text = typeof v === 'string' ? v : (v as { content?: string } | undefined)?.content;
      return text === undefined ? undefined : this.tok.token_to_id(text);
    };
    const bos = ids.bosTokenId ?? named('bos_token');
    const eos = ids.eosTokenId ?? named('eos_token');
    if (eos === undefined) throw new Error('HfTokenizer: no EOS token id (config.json eos_token_id or tokenizer_config.json eos_token)');
    this.hasBos = bos !== undefined;
    this.bos = bos ?? -1;
    this.eos = eos;
    this.pad = ids.padTokenId ?? named('pad_token') ?? eos;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids: (number | undefined)[] = this.tok.encode(text, { add_special_tokens: false }).ids;
    const bad = ids.findIndex((id) => typeof id !== 'number');
    if (bad >= 0) throw new Error(`HfTokenizer: no id for piece ${bad} of ${JSON.stringify(text)} (unknown token and no usable unk_token)`);
    const out = [...(opts.bos !== false && this.hasBos ? [this.bos] : []), ...(ids as number[])];
    if (opts.eos) out.push(this.eos);
    return out;
  }

  /**
   * Plain-text prompts only in this version: chat templates (`@huggingface/jinja`) are the
   * checkpoint loader's work (issue 17), which replaces these two methods.
   */
  renderPrompt(prompt: PromptInput): string {
    if (typeof prompt !== 'string') throw new Error('HfTokenizer: prompts given as chat messages are not yet supported; give `prompt` text');
    return prompt;
  }

  encodePrompt(prompt: PromptInput): number[] {
    return this.encode(this.renderPrompt(prompt));
  }

  /** Text of `ids` up to the first EOS, special tokens skipped. */
  decode(ids: readonly number[]): string {
    const end = ids.indexOf(this.eos);
    return this.tok.decode([...(end >= 0 ? ids.slice(0, end) : ids)], { skip_special_tokens: true });
  }
}
