/**
 * Character-level tokenizer for the built-in tasks. Ids 0..2 are the specials PAD, BOS, EOS; the
 * alphabet's characters follow in order. Unknown characters are an error (the built-in tasks have a
 * closed alphabet, and a silent <unk> would hide a data bug).
 */

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
const N_SPECIAL = 3;

/** The default alphabet: digits, operators, and the worked-answer separators (a run's `model.alphabet` may give another). */
export const DEFAULT_ALPHABET = '0123456789+-=,;: ';

export interface TokenizerJSON {
  kind: 'char';
  alphabet: string;
}

export interface EncodeOptions {
  /** Prepend BOS (default true). */
  bos?: boolean;
  /** Append EOS (default false). */
  eos?: boolean;
}

/** One chat message of a prompt given as messages (`{"role": "user", "content": "..."}`). */
export interface ChatMessage { role: string; content: string }
/** A prompt: plain text, or chat messages that the model's chat template renders. */
export type PromptInput = string | ChatMessage[];
/**
 * A response to a prompt: plain text (its tokens + EOS), or the assistant's turn(s) as chat messages,
 * rendered by the chat template after a chat prompt (TRL's conversational form; models/response-tokens.ts).
 */
export type ResponseInput = string | ChatMessage[];

/** What the recipe functions need from a tokenizer (the char tokenizer, or a loaded tokenizer.json). */
export interface TextTokenizer {
  readonly vocabSize: number;
  readonly pad: number;
  readonly bos: number;
  /** The EOS appended to SFT targets and preference completions. */
  readonly eos: number;
  /** Ids at which generation stops: any of them (a checkpoint's generation_config.json may list several). */
  readonly stopIds: readonly number[];
  /** Completions and other raw text: `bos`/`eos` add those tokens (see EncodeOptions). */
  encode(text: string, opts?: EncodeOptions): number[];
  /** Text of `ids`, stopping at the first EOS (any stop id). */
  decode(ids: readonly number[]): string;
  /** The text the model is given for `prompt`: a string as is; messages rendered by the chat template with add_generation_prompt. */
  renderPrompt(prompt: PromptInput): string;
  /** Token ids of the prompt exactly as transformers gives them: a string like tokenizer(text) (BOS only
   *  where the checkpoint's tokenizer adds one), messages like apply_chat_template(..., add_generation_prompt=True, tokenize=True). */
  encodePrompt(prompt: PromptInput): number[];
  /** The text of a whole conversation, a prompt and its reply, as the chat template renders it with no generation prompt. */
  renderConversation(messages: readonly ChatMessage[]): string;
  /** Its token ids, as apply_chat_template(messages, tokenize=True) gives them (the template writes the special tokens). */
  encodeConversation(messages: readonly ChatMessage[]): number[];
}

/** The first character of `text` the tokenizer cannot encode, if any (to name it in a data error). */
export function unencodable(tokenizer: TextTokenizer, text: string): string | undefined {
  for (const c of text) {
    try {
      tokenizer.encode(c, { bos: false });
    } catch {
      return c;
    }
  }
  return undefined;
}

/** The error for a prompt given as messages to a model that has no chat template. */
export const NO_CHAT_TEMPLATE = 'the built-in model has no chat template: give `prompt` text';

export class CharTokenizer implements TextTokenizer {
  readonly alphabet: string;
  private readonly index: Map<string, number>;
  /** The alphabet's characters by id - N_SPECIAL (code points, so a surrogate pair is one token). */
  private readonly chars: string[];

  constructor(alphabet: string = DEFAULT_ALPHABET) {
    const chars = [...alphabet];
    if (new Set(chars).size !== chars.length) throw new Error(`CharTokenizer: duplicate characters in alphabet ${JSON.stringify(alphabet)}`);
    this.alphabet = alphabet;
    this.chars = chars;
    this.index = new Map(chars.map((c, i) => [c, i + N_SPECIAL]));
  }

  get vocabSize(): number {
    return this.index.size + N_SPECIAL;
  }

  readonly pad = PAD;
  readonly bos = BOS;
  readonly eos = EOS;
  readonly stopIds = [EOS];

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids: number[] = opts.bos === false ? [] : [BOS];
    for (const c of text) {
      const id = this.index.get(c);
      if (id === undefined) throw new Error(`CharTokenizer: character ${JSON.stringify(c)} not in alphabet ${JSON.stringify(this.alphabet)}`);
      ids.push(id);
    }
    if (opts.eos) ids.push(EOS);
    return ids;
  }

  renderPrompt(prompt: PromptInput): string {
    if (typeof prompt !== 'string') throw new Error(NO_CHAT_TEMPLATE);
    return prompt;
  }

  /** BOS + the prompt's characters. */
  encodePrompt(prompt: PromptInput): number[] {
    return this.encode(this.renderPrompt(prompt));
  }

  renderConversation(): string {
    throw new Error(NO_CHAT_TEMPLATE);
  }

  encodeConversation(): number[] {
    throw new Error(NO_CHAT_TEMPLATE);
  }

  /** Text of `ids`, stopping at the first EOS and skipping PAD/BOS. */
  decode(ids: readonly number[]): string {
    const chars = this.chars;
    let out = '';
    for (const id of ids) {
      if (id === EOS) break;
      if (id < N_SPECIAL) continue;
      const c = chars[id - N_SPECIAL];
      if (c === undefined) throw new Error(`CharTokenizer: id ${id} out of range (vocab ${this.vocabSize})`);
      out += c;
    }
    return out;
  }

  toJSON(): TokenizerJSON {
    return { kind: 'char', alphabet: this.alphabet };
  }

  static fromJSON(j: TokenizerJSON): CharTokenizer {
    if (j?.kind !== 'char' || typeof j.alphabet !== 'string') throw new Error(`CharTokenizer.fromJSON: bad tokenizer JSON ${JSON.stringify(j)}`);
    return new CharTokenizer(j.alphabet);
  }
}
