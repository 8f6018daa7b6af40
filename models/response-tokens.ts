/**
 * The tokens a model is trained on after a prompt: a preference pair's chosen or rejected response,
 * an SFT demonstration. Two forms:
 *
 *  - text: its tokens with no BOS, then the tokenizer's EOS (what greedy decoding produces after the
 *    prompt, up to the stop token);
 *  - the assistant's turn(s) as chat messages, after a chat prompt (TRL's conversational form), as
 *    TRL's DPO trainer encodes them (trl 1.16.0, trl/trainer/dpo_trainer.py `_prepare_dataset`,
 *    `tokenize_fn`): the prompt is apply_chat_template(prompt, add_generation_prompt=True,
 *    tokenize=True), prompt + reply is apply_chat_template(prompt + reply, tokenize=True) with no
 *    generation prompt, and the reply is what the second has after the first. Both are tokenized with
 *    add_special_tokens=False, and no EOS is appended: the template writes the turn's end (ChatML's
 *    `<|im_end|>\n`, Llama 3's `<|eot_id|>`).
 *
 * TRL starts the reply where the two token lists part (`common_prefix_length`) and only warns when
 * that is inside the prompt, training on a prompt cut short. We refuse such a reply instead: it
 * happens when the template's generation prompt differs from the header it writes before a reply
 * (a forced `<think>`, say), or when the prompt's last tokens merge with the reply's first.
 */
import type { PromptInput, ResponseInput, TextTokenizer } from './tokenizer.js';

/** How much of each rendering an error quotes from where they part. */
const QUOTE_CHARS = 30;

/**
 * The token ids of `response` after `prompt`, whose own ids (`tok.encodePrompt(prompt)`) are
 * `promptIds`.
 * @throws Error when the response is messages and the prompt text, or when the template's rendering
 *   of prompt + response does not begin with `promptIds`
 */
export function encodeResponse(tok: TextTokenizer, prompt: PromptInput, promptIds: readonly number[], response: ResponseInput): number[] {
  if (typeof response === 'string') return tok.encode(response, { bos: false, eos: true });
  if (typeof prompt === 'string') throw new Error('chat messages as a response need `prompt` as chat messages too (TRL\'s conversational form)');
  const whole = tok.encodeConversation([...prompt, ...response]);
  const parted = promptIds.findIndex((id, t) => whole[t] !== id);
  if (parted >= 0) throw new Error(notAPrefix(tok, prompt, response, parted));
  return whole.slice(promptIds.length);
}

/** Why prompt + response, rendered, does not begin with the prompt's own ids (first differing at `token`). */
function notAPrefix(tok: TextTokenizer, prompt: Exclude<PromptInput, string>, response: Exclude<ResponseInput, string>, token: number): string {
  const alone = tok.renderPrompt(prompt);
  const whole = tok.renderConversation([...prompt, ...response]);
  if (whole.startsWith(alone)) {
    return `the prompt's last tokens merge with the reply's first (they part at prompt token ${token + 1}); start the reply on a token boundary`;
  }
  let at = 0;
  while (alone[at] === whole[at]) at++;
  const quote = (s: string) => JSON.stringify(s.slice(at, at + QUOTE_CHARS));
  return `the chat template renders the prompt as ${quote(alone)} at character ${at + 1} with the generation prompt, but as ${quote(whole)} before a reply, `
    + 'so the reply cannot be cut from the conversation at the prompt\'s end';
}

/**
 * The text of `response` as the model is trained on it: text as it is (EOS not shown); messages as
 * the chat template writes them after the prompt (turn markers included).
 */
export function responseText(tok: TextTokenizer, prompt: PromptInput, response: ResponseInput): string {
  if (typeof response === 'string') return response;
  // Messages after a text prompt never pass validation; shown as written.
  if (typeof prompt === 'string') return JSON.stringify(response);
  return tok.renderConversation([...prompt, ...response]).slice(tok.renderPrompt(prompt).length);
}
