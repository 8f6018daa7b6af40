/**
 * A checkpoint's tokenizer as transformers 5 uses it, behind the {@link TextTokenizer} interface:
 * `tokenizer.json` through `@huggingface/tokenizers` (a pure-JS port of the Rust library), the
 * special tokens of `tokenizer_config.json`, its chat template (models/chat-template.ts), and the
 * EOS ids generation stops at (generation_config.json). Works offline from the local files.
 *
 * Special tokens as transformers 5 adds them (tokenization_utils_base.py `_from_pretrained`,
 * tokenization_utils_tokenizers.py): `tokenizer(text)` adds what tokenizer.json's post-processor adds
 * (Llama 3: BOS; SmolLM2, Qwen2: nothing; no post-processor: nothing). tokenizer_config.json's
 * `add_bos_token` / `add_eos_token` are dropped when a tokenizer.json exists, so they are ignored here
 * too. A prompt string gets a BOS only where the checkpoint's tokenizer adds one, a chat prompt only
 * what its template writes.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatTemplate, chatTemplateSource, tokenText } from '../chat-template.js';
import type { ChatMessage, EncodeOptions, PromptInput, TextTokenizer } from '../tokenizer.js';

export interface HfTokenizerFiles {
  /** tokenizer.json. */
  json: Record<string, unknown>;
  /** tokenizer_config.json: special tokens, chat_template. */
  config?: Record<string, unknown>;
  /** chat_template.jinja, where the folder has one (it wins over tokenizer_config.json's). */
  chatTemplate?: string;
  /** generation_config.json's eos_token_id (else config.json's): generation stops at any of them. */
  generationEos?: number[];
  /** config.json's token ids, used only where tokenizer_config.json names no such token. */
  bosTokenId?: number;
  eosTokenIds?: number[];
}

type Raw = Record<string, unknown>;

/**
 * The special tokens a post-processor puts before and after a single text: TemplateProcessing's
 * `single` split at `$A` (also inside a Sequence), Bert/Roberta's cls ... sep, none otherwise.
 */
function specialsAround(pp: Raw | null, idOf: (token: string) => number): [number[], number[]] {
  if (!pp) return [[], []];
  if (pp.type === 'Sequence') {
    const parts = ((pp.processors as Raw[]) ?? []).map((p) => specialsAround(p, idOf));
    return [parts.flatMap(([a]) => a), parts.flatMap(([, b]) => b)];
  }
  if (pp.type === 'TemplateProcessing') {
    const items = pp.single as { SpecialToken?: { id: string }; Sequence?: unknown }[];
    const at = items.findIndex((x) => x.Sequence !== undefined);
    const ids = (xs: typeof items) => xs.flatMap((x) => (x.SpecialToken ? [idOf(x.SpecialToken.id)] : []));
    return [ids(items.slice(0, at)), ids(items.slice(at + 1))];
  }
  if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
    return [[(pp.cls as [string, number])[1]], [(pp.sep as [string, number])[1]]];
  }
  return [[], []];
}

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  /** The tokenizer's BOS id (-1 if it has none). */
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly stopIds: readonly number[];
  /** What `tokenizer(text)` puts before and after the text's own tokens (from the post-processor). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  readonly chatTemplate?: ChatTemplate;
  /** chat_template.jinja's text, when the template came from that file (written back on save). */
  readonly chatTemplateFile?: string;
  readonly json: Raw;
  readonly tokenizerConfig: Raw;
  private readonly tok: Tokenizer;
  private readonly cleanUpSpaces: boolean;

  constructor(files: HfTokenizerFiles) {
    const tc = files.config ?? {};
    const bosText = tokenText(tc.bos_token);
    const eosText = tokenText(tc.eos_token);
    const json = files.json;
    this.json = json;
    this.tokenizerConfig = tc;
    this.tok = new Tokenizer(json, tc);
    const vocab = this.tok.get_vocab(true);
    this.vocabSize = Math.max(...vocab.values()) + 1;
    const id = (text: string | undefined, what: string): number | undefined => {
      if (text === undefined) return undefined;
      const v = this.tok.token_to_id(text);
      if (v === undefined) throw new Error(`tokenizer_config.json: ${what} ${JSON.stringify(text)} is not in tokenizer.json's vocabulary`);
      return v;
    };
    this.bos = id(bosText, 'bos_token') ?? files.bosTokenId ?? -1;
    const eos = id(eosText, 'eos_token') ?? files.eosTokenIds?.[0];
    if (eos === undefined) throw new Error('no EOS token (tokenizer_config.json eos_token or config.json eos_token_id)');
    this.eos = eos;
    this.pad = id(tokenText(tc.pad_token), 'pad_token') ?? eos;
    this.stopIds = files.generationEos?.length ? [...files.generationEos] : files.eosTokenIds?.length ? [...files.eosTokenIds] : [eos];
    [this.prefixIds, this.suffixIds] = specialsAround(json.post_processor as Raw | null, (t) => id(t, 'post-processor token')!);
    const isBpe = (files.json.model as Raw | undefined)?.type === 'BPE';
    this.cleanUpSpaces = tc.clean_up_tokenization_spaces === true && (!isBpe || tc.clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output === true);
    const source = chatTemplateSource(tc, files.chatTemplate);
    if (source !== undefined) this.chatTemplate = new ChatTemplate(source, tc);
    this.chatTemplateFile = files.chatTemplate;
  }

  /** The text's tokens alone, no special tokens added (added tokens written in the text still match). */
  private rawIds(text: string): number[] {
    const ids: (number | undefined)[] = this.tok.encode(text, { add_special_tokens: false }).ids;
    const bad = ids.findIndex((i) => typeof i !== 'number');
    if (bad >= 0) throw new Error(`tokenizer: no id for piece ${bad} of ${JSON.stringify(text)} (unknown token and no usable unk_token)`);
    return ids as number[];
  }

  /**
   * `text`'s tokens; `bos` (default true) puts what the tokenizer puts before a text (its BOS, if it
   * adds one), `eos` appends the EOS. Completions use `{ bos: false }`.
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = this.rawIds(text);
    return [...(opts.bos === false ? [] : this.prefixIds), ...ids, ...(opts.eos ? [this.eos] : [])];
  }

  renderPrompt(prompt: PromptInput): string {
    if (typeof prompt === 'string') return prompt;
    return this.template().render(prompt, true);
  }

  renderConversation(messages: readonly ChatMessage[]): string {
    return this.template().render(messages, false);
  }

  encodeConversation(messages: readonly ChatMessage[]): number[] {
    return this.rawIds(this.renderConversation(messages));
  }

  private template(): ChatTemplate {
    if (!this.chatTemplate) throw new Error('this checkpoint has no chat template (chat_template.jinja or tokenizer_config.json chat_template): give `prompt` text');
    return this.chatTemplate;
  }

  encodePrompt(prompt: PromptInput): number[] {
    if (typeof prompt === 'string') return [...this.prefixIds, ...this.rawIds(prompt), ...this.suffixIds];
    // apply_chat_template tokenizes the rendered text with add_special_tokens=False: the template writes them.
    return this.rawIds(this.renderPrompt(prompt));
  }

  /** Text of `ids` up to the first stop id, special tokens skipped. */
  decode(ids: readonly number[]): string {
    const end = ids.findIndex((i) => i === this.eos || this.stopIds.includes(i));
    const kept = end >= 0 ? ids.slice(0, end) : ids;
    if (kept.length === 0) return '';
    return this.tok.decode([...kept], { skip_special_tokens: true, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }
}
