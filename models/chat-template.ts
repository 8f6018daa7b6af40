/**
 * A checkpoint's chat template, rendered with `@huggingface/jinja` the way transformers 5's
 * `apply_chat_template` renders it (utils/chat_template_utils.py): Jinja with trim_blocks and
 * lstrip_blocks, the tokenizer's named special tokens as strings (`bos_token`, `eos_token`, ...),
 * `messages`, `add_generation_prompt`, `tools` and `documents` as none, and the globals
 * `raise_exception` / `strftime_now`. The template comes from `chat_template.jinja` (as transformers 5
 * saves it) or from tokenizer_config.json's `chat_template` (a string, or a list of named templates
 * of which 'default' is used).
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from './tokenizer.js';

/** tokenizer_config.json keys of the named special tokens transformers passes to the template. */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

export class ChatTemplate {
  private readonly template: Template;
  private readonly specialTokens: Record<string, string>;

  /** `source`: the Jinja text; `tokenizerConfig`: tokenizer_config.json, for the special tokens. */
  constructor(
    readonly source: string,
    tokenizerConfig: Record<string, unknown> = {},
  ) {
    this.template = new Template(source);
    this.specialTokens = {};
    for (const key of SPECIAL_TOKEN_KEYS) {
      const text = tokenText(tokenizerConfig[key]);
      if (text !== undefined) this.specialTokens[key] = text;
    }
  }

  /** The prompt text for `messages`, ending with the assistant header when `addGenerationPrompt`. */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (messages.length === 0) throw new Error('chat template: no messages to render');
    messages.forEach((m, i) => {
      if (typeof m?.role !== 'string' || typeof m.content !== 'string') throw new Error(`chat template: message ${i} needs a string role and a string content`);
    });
    return this.template.render({
      ...this.specialTokens,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: addGenerationPrompt,
      tools: null,
      documents: null,
    });
  }
}

/** The text of a special-token entry of tokenizer_config.json: a string or an AddedToken object. */
export function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = (v as { content?: unknown } | null | undefined)?.content;
  return typeof content === 'string' ? content : undefined;
}

/**
 * The chat template source of a checkpoint: `chat_template.jinja` when present (`jinjaFile`),
 * else tokenizer_config.json's `chat_template`; undefined when it has none.
 */
export function chatTemplateSource(tokenizerConfig: Record<string, unknown>, jinjaFile?: string): string | undefined {
  if (jinjaFile !== undefined) return jinjaFile;
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => (x as { name?: string })?.name === 'default') as { template?: unknown } | undefined;
    if (typeof named?.template === 'string') return named.template;
  }
  return undefined;
}
