/**
 * TRL's conversational preference form, read from a JSONL line: `chosen` and `rejected` are the
 * assistant's turn(s) as chat messages after a chat `prompt`,
 *
 *   {"id": "q1", "prompt": [{"role": "user", "content": "What is 57+68?"}],
 *    "chosen": [{"role": "assistant", "content": "125"}], "rejected": [{"role": "assistant", "content": "124"}]}
 *
 * or, with no `prompt` field, whole conversations that share their first messages (TRL's "implicit
 * prompt"), split as TRL's `extract_prompt` splits them.
 * How such a pair becomes tokens is models/response-tokens.ts.
 */
import type { ChatMessage } from '../models/tokenizer.js';
import { quoteField } from './jsonl-lines.js';
import { messagesProblem } from './rows.js';

/** JSON text of a message with its keys in order, so two messages compare as Python dicts do. */
const canonical = (m: ChatMessage): string => JSON.stringify(Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

export function sameMessages(a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean {
  return a.length === b.length && a.every((m, i) => canonical(m) === canonical(b[i]));
}

/**
 * Why `v` is not the assistant's reply as chat messages (null when it is one): well-formed messages,
 * each of role "assistant" with some content. `first` numbers its first message (an implicit
 * prompt's reply starts after the shared messages).
 */
export function replyMessagesProblem(v: unknown, first = 1): string | null {
  const shape = messagesProblem(v);
  if (shape) return shape;
  const messages = v as ChatMessage[];
  const notAssistant = messages.findIndex((m) => m.role !== 'assistant');
  if (notAssistant >= 0) return `message ${notAssistant + first} has role ${quoteField(messages[notAssistant].role, 40)}; a reply is the assistant's turn (role "assistant")`;
  const empty = messages.findIndex((m) => m.content.length === 0);
  return empty < 0 ? null : `message ${empty + first} has empty content`;
}

/**
 * The shared prompt of two conversations and what follows it in each, as TRL's `extract_prompt`
 * (trl/data_utils.py) splits them: the prompt ends before the first message at which they differ
 * (if neither differs within the shorter one, before its last message), or the reason there is none.
 */
export function splitImplicitPrompt(chosen: readonly ChatMessage[], rejected: readonly ChatMessage[]): { prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] } | { problem: string } {
  const shorter = Math.min(chosen.length, rejected.length);
  let at = 0;
  while (at < shorter - 1 && sameMessages([chosen[at]], [rejected[at]])) at++;
  if (at === 0) return { problem: 'required field is missing, and chosen and rejected do not begin with shared messages to take it from (TRL\'s implicit prompt): give `prompt`' };
  return { prompt: chosen.slice(0, at), chosen: chosen.slice(at), rejected: rejected.slice(at) };
}

/** The line's chosen and rejected as whole conversations, when they are TRL's implicit-prompt form. */
export function isImplicitPrompt(record: Record<string, unknown>): boolean {
  return record.prompt === undefined && Array.isArray(record.chosen) && Array.isArray(record.rejected);
}
