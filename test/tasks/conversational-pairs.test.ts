/**
 * TRL's conversational preference form: chosen / rejected as the assistant's turn(s) after a chat
 * prompt (or, with no prompt, whole conversations sharing their first messages). The ids are checked
 * against what TRL's DPO trainer gives on the committed tiny checkpoints (test/fixtures/reference-models/
 * *.expected.json `preferencePairs`, written by scripts/reference-models/make_reference.py and checked
 * there against trl 1.16.0 itself); the refusals name the line and the field.
 * npx vitest run test/tasks/conversational-pairs.test.ts
 */
import { describe, expect, it } from 'vitest';
import { HfTokenizer } from '../../models/llama/hf-tokenizer.js';
import { responseText } from '../../models/response-tokens.js';
import { CharTokenizer, type ChatMessage } from '../../models/tokenizer.js';
import { splitImplicitPrompt } from '../../tasks/conversational-pairs.js';
import { encodePair, parsePreferenceJsonl, PreferenceDataError, toJsonl, type PairLimits } from '../../tasks/preference-pairs.js';
import { readExpected, referenceTokenizer } from '../models/reference-checks.js';

const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });

function problemsOf(lines: object[], limits: PairLimits): string[] {
  try {
    parsePreferenceJsonl(lines.map((l) => JSON.stringify(l)).join('\n'), 'pairs.jsonl', limits);
  } catch (err) {
    expect(err).toBeInstanceOf(PreferenceDataError);
    return (err as PreferenceDataError).problems;
  }
  throw new Error('expected the data to be refused');
}

describe.each(['qwen2-tiny', 'llama3-rope-tiny'])('conversational pairs on %s, against TRL\'s DPO trainer', (name) => {
  const tokenizer = referenceTokenizer(name);
  const expected = readExpected(name).preferencePairs!;

  it('encode to the prompt, chosen and rejected ids TRL gives (no EOS appended, no special tokens added)', () => {
    expect(expected).toHaveLength(3);
    const lines = expected.map((e, i) => JSON.stringify({ id: `p${i}`, ...(e.prompt ? { prompt: e.prompt } : {}), chosen: e.chosen, rejected: e.rejected }));
    const pairs = parsePreferenceJsonl(lines.join('\n'), 'pairs.jsonl', { tokenizer, maxSeqLen: 256 });
    pairs.forEach((pair, i) => {
      const { promptIds, chosenIds, rejectedIds } = expected[i];
      expect(encodePair(tokenizer, pair), `pair ${i}`).toEqual({ id: `p${i}`, prompt: promptIds, chosen: chosenIds, rejected: rejectedIds });
    });
    // The implicit prompt is split out as TRL's extract_prompt splits it, and the run's copy of the
    // pairs (toJsonl) writes it out, reading back to the same pairs.
    const implicit = expected[2];
    expect(pairs[2].prompt).toEqual(implicit.chosen.slice(0, -1));
    expect(parsePreferenceJsonl(toJsonl(pairs), 'copy.jsonl', { tokenizer, maxSeqLen: 256 })).toEqual(pairs);
  });

  it('show a reply as the template writes it after the prompt', () => {
    const [first] = expected;
    expect(responseText(tokenizer, first.prompt!, first.chosen)).toBe(tokenizer.renderConversation([...first.prompt!, ...first.chosen]).slice(tokenizer.renderPrompt(first.prompt!).length));
    expect(tokenizer.encode(responseText(tokenizer, first.prompt!, first.chosen), { bos: false })).toEqual(first.chosenIds);
  });
});

describe('conversational pairs refused, by line and field', () => {
  const tokenizer = referenceTokenizer('qwen2-tiny');
  const limits = { tokenizer, maxSeqLen: 256 };
  const prompt = [user('What is 7 times 6?')];

  it('reports each malformed line', () => {
    const problems = problemsOf([
      { id: 'a', prompt, chosen: [assistant('42')], rejected: [assistant('48')] },
      { id: 'b', prompt: 'What is 7 times 6?', chosen: [assistant('42')], rejected: '48' },
      { id: 'c', prompt, chosen: [user('42')], rejected: [assistant('48')] },
      { id: 'd', prompt, chosen: [assistant('42')], rejected: [assistant('')] },
      { id: 'e', prompt, chosen: [{ role: 'assistant' }], rejected: [assistant('48')] },
      { id: 'f', prompt, chosen: [assistant('42')], rejected: [assistant('42')] },
      { id: 'g', prompt, chosen: [assistant('42')], rejected: '48' },
      { id: 'h', prompt, chosen: 5, rejected: [assistant('48')] },
      { id: 'i', chosen: [user('Hi'), assistant('42')], rejected: [user('Hello'), assistant('48')] },
      { id: 'j', chosen: [user('Hi'), assistant('42')], rejected: [user('Hi'), assistant('42'), user('And?'), assistant('48')] },
      { id: 'k', chosen: [user('Hi'), assistant('42')], rejected: 'text' },
    ], limits);
    expect(problems).toEqual([
      'line 2: chosen and rejected must be in one form: both text or both chat messages',
      'line 2: chosen: chat messages as a response need `prompt` as chat messages too (TRL\'s conversational form)',
      'line 3: chosen: message 1 has role "user"; a reply is the assistant\'s turn (role "assistant")',
      'line 4: rejected: message 1 has empty content',
      'line 5: chosen: message 1 is not {"role": string, "content": string}',
      'line 6: chosen and rejected are identical (no preference to learn)',
      'line 7: chosen and rejected must be in one form: both text or both chat messages',
      'line 8: chosen: expected a string or a list of chat messages, got number',
      'line 9: prompt: required field is missing, and chosen and rejected do not begin with shared messages to take it from (TRL\'s implicit prompt): give `prompt`',
      // As TRL splits it: the prompt is [Hi]; rejected's reply is its messages 2-4, of which 3 is the user's.
      'line 10: rejected: message 3 has role "user"; a reply is the assistant\'s turn (role "assistant")',
      'line 11: prompt: required field is missing',
    ]);
    expect(splitImplicitPrompt([user('Hi'), assistant('42')], [user('Hi'), assistant('42'), user('And?')])).toEqual({ prompt: [user('Hi')], chosen: [assistant('42')], rejected: [assistant('42'), user('And?')] });
  });

  it('refuses a pair longer than the context, counting the template\'s tokens', () => {
    const ids = encodePair(tokenizer, { id: 'a', prompt, chosen: [assistant('It is 42.')], rejected: [assistant('48')] });
    const problems = problemsOf([{ id: 'a', prompt, chosen: [assistant('It is 42.')], rejected: [assistant('48')] }], { tokenizer, maxSeqLen: ids.prompt.length + ids.rejected.length });
    expect(problems).toEqual([`line 1: prompt + chosen is ${ids.prompt.length + ids.chosen.length} tokens (as the chat template renders them), longer than model.maxSeqLen (${ids.prompt.length + ids.rejected.length})`]);
  });

  it('refuses a pair on a model with no chat template', () => {
    expect(problemsOf([{ id: 'a', prompt: [user('1+1=')], chosen: [assistant('2')], rejected: [assistant('3')] }], { tokenizer: new CharTokenizer(), maxSeqLen: 32 }))
      .toEqual(['line 1: prompt: the built-in model has no chat template: give `prompt` text']);
  });

  // A checkpoint whose template `chatTemplate` replaces the tiny Qwen2's (same vocabulary).
  const withTemplate = (chatTemplate: string) => new HfTokenizer({ json: tokenizer.json, config: tokenizer.tokenizerConfig, chatTemplate });
  const turns = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}";

  it('refuses a reply the template does not write right after the prompt\'s generation prompt (TRL would cut the prompt short)', () => {
    // A forced thinking block in the generation prompt, which a rendered reply does not have.
    const thinking = withTemplate(`${turns}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}`);
    expect(problemsOf([{ id: 'a', prompt, chosen: [assistant('42')], rejected: [assistant('48')] }], { tokenizer: thinking, maxSeqLen: 256 })).toEqual([
      'line 1: chosen: the chat template renders the prompt as "<think>\\n" at character 69 with the generation prompt, but as "42<|im_end|>\\n" before a reply, so the reply cannot be cut from the conversation at the prompt\'s end',
      'line 1: rejected: the chat template renders the prompt as "<think>\\n" at character 69 with the generation prompt, but as "48<|im_end|>\\n" before a reply, so the reply cannot be cut from the conversation at the prompt\'s end',
    ]);
    // A reply whose first newlines merge with the generation prompt's last one.
    const untrimmed = withTemplate(`${turns}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}`);
    const promptLength = untrimmed.encodePrompt(prompt).length;
    expect(problemsOf([{ id: 'a', prompt, chosen: [assistant('\n\nIt is 42.')], rejected: [assistant('48')] }], { tokenizer: untrimmed, maxSeqLen: 256 })).toEqual([
      `line 1: chosen: the prompt's last tokens merge with the reply's first (they part at prompt token ${promptLength}); start the reply on a token boundary`,
    ]);
  });
});
