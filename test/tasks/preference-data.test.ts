/** Preference data: JSONL validation with line numbers, the built-in arithmetic pairs, a run's data set. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateRunConfig } from '../../configs/load.js';
import { CharTokenizer, EOS } from '../../models/tokenizer.js';
import { sampleArithmetic } from '../../tasks/arithmetic.js';
import { arithmeticPreferencePairs, parseArithmeticPrompt, wrongAnswers } from '../../tasks/arithmetic-preferences.js';
import { contrastivePrompts, preferenceDataSet } from '../../tasks/preference-data.js';
import { loadHfCheckpoint } from '../../models/llama/checkpoint.js';
import { FIXTURES, readExpected } from '../models/reference-checks.js';
import { encodePair, parsePreferenceJsonl, PreferenceDataError, toJsonl } from '../../tasks/preference-pairs.js';

const limits = { tokenizer: new CharTokenizer(), maxSeqLen: 12 };

function problemsOf(text: string): string[] {
  try {
    parsePreferenceJsonl(text, 'pairs.jsonl', limits);
  } catch (err) {
    expect(err).toBeInstanceOf(PreferenceDataError);
    expect((err as Error).name).toBe('DataError');
    return (err as PreferenceDataError).problems;
  }
  throw new Error('expected the data to be rejected');
}

const good = (id: string, extra = '') => `{"id":"${id}","prompt":"1+2=","chosen":"3","rejected":"4"${extra}}`;

describe('preference JSONL', () => {
  it('reads good lines, skipping blank ones', () => {
    const pairs = parsePreferenceJsonl(`${good('a')}\n\n${good('b')}\n`, 'x', limits);
    expect(pairs.map((p) => p.id)).toEqual(['a', 'b']);
    expect(parsePreferenceJsonl(toJsonl(pairs), 'x', limits)).toEqual(pairs);
  });

  it('reports every bad line with its line number', () => {
    const text = [
      good('a'),
      '{"id":"b","prompt":"1+2=","chosen":"3"',                          // 2: not JSON
      '["a"]',                                                            // 3: not an object
      '{"id":"c","prompt":"1+2=","chosen":3,"rejected":"4"}',             // 4: wrong type
      '{"id":"d","prompt":"1+2=","chosen":"3"}',                          // 5: missing field
      good('e', ',"score":1'),                                            // 6: other fields are ignored
      good('a'),                                                          // 7: duplicate id
      '{"id":"f","prompt":"1+2=","chosen":"3","rejected":"3"}',           // 8: identical
      '{"id":"g","prompt":"one plus two","chosen":"3","rejected":"4"}',   // 9: not encodable
      '{"id":"h","prompt":"1234+5678=","chosen":"6912","rejected":"1"}',  // 10: too long
      '',
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems[0]).toMatch(/^line 2: not valid JSON/);
    expect(problems[1]).toMatch(/^line 3: expected an object/);
    expect(problems[2]).toBe('line 4: chosen: expected a string or a list of chat messages, got number');
    expect(problems[3]).toBe('line 5: rejected: required field is missing');
    expect(problems[4]).toBe('line 7: id "a" is already used on line 1');
    expect(problems[5]).toMatch(/^line 8: chosen and rejected are identical/);
    expect(problems[6]).toMatch(/^line 9: prompt: character "o" cannot be encoded/);
    expect(problems[7]).toMatch(/^line 10: prompt \+ chosen is 16 tokens .* model\.maxSeqLen \(12\)/);
    expect(problems[8]).toMatch(/^line 10: prompt \+ rejected is 13 tokens/);
    expect(problems).toHaveLength(9);
  });

  it('ignores other columns, as TRL does, and names a pair without an id by its line', () => {
    // ultrafeedback_binarized's columns: prompt_id instead of id, scores, the whole conversation.
    const line = '{"prompt":"1+2=","prompt_id":"p9","chosen":"3","rejected":"4","score_chosen":8.5,"score_rejected":2,"messages":[]}';
    const pairs = parsePreferenceJsonl(`${good('a', ',"source":"x"')}\n\n${line}\n`, 'x', limits);
    expect(pairs).toEqual([
      { id: 'a', prompt: '1+2=', chosen: '3', rejected: '4' },
      { id: 'line-3', prompt: '1+2=', chosen: '3', rejected: '4' },
    ]);
  });

  it('refuses a file that is not JSONL in one problem, quoting none of its content', () => {
    const passwd = Array.from({ length: 40 }, (_, k) => `user${k}:x:${k}:${k}:secret-${k}:/home/u${k}:/bin/sh`).join('\n');
    const problems = problemsOf(passwd);
    expect(problems).toEqual(['not a JSONL file: none of its first 20 lines is JSON (lines 1-20); is the path right?']);
    expect(problemsOf('{"id":"a",\nuser0:x:0:0:secret')).toEqual(['line 1: not valid JSON (at character 11)', 'line 2: not valid JSON']);
  });

  it('caps the list and rejects an empty file', () => {
    // Line 1 is JSON, so the file reads as JSONL with bad lines (not as a file that is no JSONL at all).
    const many = ['[1]', ...Array.from({ length: 30 }, () => 'nope')].join('\n');
    const problems = problemsOf(many);
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe('… and 11 more problems');
    expect(problemsOf('\n\n')).toEqual(['no pairs (the file is empty)']);
  });

  it('encodes like the SFT demonstrations: BOS + prompt, response + EOS', () => {
    const tok = new CharTokenizer();
    const e = encodePair(tok, { id: 'a', prompt: '1+2=', chosen: '3', rejected: '12' });
    expect(e.prompt).toEqual(tok.encode('1+2='));
    expect(e.chosen).toEqual([...tok.encode('3', { bos: false }), EOS]);
    expect(e.rejected).toHaveLength(3);
  });
});

describe('preference pairs with a chat prompt', () => {
  it('are encoded through the checkpoint\'s chat template, as transformers\' apply_chat_template gives them', async () => {
    const ck = await loadHfCheckpoint(join(FIXTURES, 'qwen2-tiny'));
    ck.model.dispose();
    const chat = readExpected('qwen2-tiny').chats[1];
    const line = JSON.stringify({ id: 'c1', prompt: chat.messages, chosen: '4', rejected: '5' });
    const [pair] = parsePreferenceJsonl(line, 'chat.jsonl', { tokenizer: ck.tokenizer!, maxSeqLen: 512 });
    expect(pair.prompt).toEqual(chat.messages);
    const encoded = encodePair(ck.tokenizer!, pair);
    expect(encoded.prompt).toEqual(chat.ids);
    expect(encoded.chosen).toEqual([...ck.tokenizer!.encode('4', { bos: false }), ck.tokenizer!.eos]);
  });

  it('are refused, naming the line, where the model has no chat template or the messages are malformed', () => {
    const lines = [
      JSON.stringify({ id: 'a', prompt: [{ role: 'user', content: '1+1=' }], chosen: '2', rejected: '3' }),
      JSON.stringify({ id: 'b', prompt: [{ role: 'user' }], chosen: '2', rejected: '3' }),
    ].join('\n');
    expect(() => parsePreferenceJsonl(lines, 'chat.jsonl', { tokenizer: new CharTokenizer(), maxSeqLen: 32 })).toThrow(
      /line 1: prompt: the built-in model has no chat template: give `prompt` text\n.*line 2: prompt: message 1 is not \{"role": string, "content": string\}/s,
    );
    expect(contrastivePrompts({ betterPrompt: '{prompt}', worsePrompt: '{prompt}' }, [{ role: 'user', content: '1+1=' }])).toEqual({
      problem: 'the prompt is chat messages; T-REG\'s objective.betterPrompt and objective.worsePrompt templates take a text prompt',
    });
  });
});

describe('arithmetic preference pairs', () => {
  const examples = sampleArithmetic('train', 200, { splitSeed: 0, sampleSeed: 0, spec: { minDigits: 1, maxDigits: 2, ops: ['+', '-'], heldOutFraction: 0.2 } });

  it('chosen is the answer, rejected a distinct plausible wrong answer', () => {
    const pairs = arithmeticPreferencePairs(examples, { seed: 3, pairsPerPrompt: 2, maxDigits: 2 });
    expect(pairs.length).toBeGreaterThan(380);
    for (const p of pairs) {
      const ex = examples.find((e) => e.prompt === p.prompt)!;
      expect(p.chosen).toBe(ex.answer);
      expect(p.rejected).not.toBe(ex.answer);
      expect(p.rejected).toMatch(/^\d{1,3}$/);
      expect(parsePreferenceJsonl(toJsonl([p]), 'x', { tokenizer: new CharTokenizer(), maxSeqLen: 16 })).toHaveLength(1);
    }
    // two rejected answers of one prompt differ
    const byPrompt = new Map<string, string[]>();
    for (const p of pairs) byPrompt.set(p.prompt, [...(byPrompt.get(p.prompt) ?? []), p.rejected]);
    for (const rs of byPrompt.values()) expect(new Set(rs).size).toBe(rs.length);
  });

  it('is deterministic in the seed and independent of the example order', () => {
    const a = arithmeticPreferencePairs(examples, { seed: 3, pairsPerPrompt: 1, maxDigits: 2 });
    const b = arithmeticPreferencePairs([...examples].reverse(), { seed: 3, pairsPerPrompt: 1, maxDigits: 2 });
    expect(new Map(b.map((p) => [p.id, p.rejected]))).toEqual(new Map(a.map((p) => [p.id, p.rejected])));
    const c = arithmeticPreferencePairs(examples, { seed: 4, pairsPerPrompt: 1, maxDigits: 2 });
    expect(c.map((p) => p.rejected)).not.toEqual(a.map((p) => p.rejected));
  });

  it('lists the slips of one problem', () => {
    expect(parseArithmeticPrompt('57+68=')).toEqual({ a: 57, op: '+', b: 68 });
    expect(parseArithmeticPrompt('x')).toBeNull();
    const wrong = wrongAnswers({ prompt: '57+68=', answer: '125' }, 2);
    expect(wrong).toEqual([
      { answer: '126', kind: 'last-digit' }, { answer: '124', kind: 'last-digit' },
      { answer: '127', kind: 'last-digit' }, { answer: '123', kind: 'last-digit' },
      { answer: '135', kind: 'carry' }, { answer: '115', kind: 'carry' },
      { answer: '11', kind: 'operation' }, { answer: '521', kind: 'reversed' }, { answer: '12', kind: 'truncated' },
    ]);
    // never negative, never the answer
    expect(wrongAnswers({ prompt: '1-1=', answer: '0' }, 1).map((w) => w.answer)).toEqual(['1', '2', '10']);
  });
});

describe('a run\'s preference data set', () => {
  const config = (extra: Record<string, unknown>) => {
    const run = validateRunConfig({ kind: 'preference', experiment: 'x', data: { source: 'arithmetic', maxDigits: 1, trainSize: 60, evalSize: 20 }, ...extra });
    if (run.kind !== 'preference') throw new Error('not a preference config');
    return run.config;
  };
  const tok = new CharTokenizer();

  it('generated: training pairs from training problems, held-out pairs from held-out problems', () => {
    const set = preferenceDataSet(config({ pairs: { source: 'generated', pairsPerPrompt: 2 } }), tok);
    expect(set.train).toHaveLength(120);
    expect(set.heldOut).toHaveLength(20);
    const trainPrompts = new Set(set.train.map((p) => p.prompt));
    for (const p of set.heldOut) expect(trainPrompts.has(p.prompt)).toBe(false);
  });

  it('file: a stable hash split by id; T-REG templates checked per line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-pref-data-'));
    const path = join(dir, 'pairs.jsonl');
    writeFileSync(path, Array.from({ length: 40 }, (_, i) => `{"id":"p${i}","prompt":"${i % 10}+1=","chosen":"${(i % 10) + 1}","rejected":"0"}`).join('\n'));
    const set = preferenceDataSet(config({ pairs: { source: 'file', path } }), tok);
    expect(set.train.length + set.heldOut.length).toBe(40);
    expect(set.heldOut.length).toBeGreaterThan(0);
    expect(preferenceDataSet(config({ pairs: { source: 'file', path } }), tok)).toEqual(set);
    writeFileSync(path, '{"id":"a","prompt":"1+1=","chosen":"2","rejected":"3"}\n{"id":"b","prompt":"11=","chosen":"2","rejected":"3"}\n');
    expect(() => preferenceDataSet(config({ pairs: { source: 'file', path }, objective: { name: 't-reg' } }), tok))
      .toThrow(/line 2: prompt "11=" is not of the form a\+b= or a-b=, which objective\.worsePrompt's \{a\} needs/);
  });

  it('data too small for its sizes is a data error', () => {
    expect(() => preferenceDataSet(config({ data: { source: 'arithmetic', maxDigits: 1, trainSize: 500 } }), tok)).toThrow(/data: arithmetic: could not draw 500/);
  });
});
