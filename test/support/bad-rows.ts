/**
 * A data file with ten different bad lines (and two good ones), and the problem each must be
 * reported with, for an RL run of the built-in model on a file (default alphabet: printable ASCII)
 * with `model.maxSeqLen` 32, `rollout.maxNewTokens` 8 and the default `math` reward.
 */
export const BAD_ROWS_SECTIONS = { model: { maxSeqLen: 32 }, rollout: { maxNewTokens: 8 } } as const;

export const BAD_ROWS = [
  '{"id": "ok", "prompt": "1+2=", "answer": "3", "completion": "3"}',
  '{"id": "a", "prompt": "1+2="',                                                     // 2: not JSON
  '["a"]',                                                                             // 3: not an object
  '{"prompt": "1+2=", "answer": "3"}',                                                 // 4: no id
  '{"id": "ok", "prompt": "2+2=", "answer": "4"}',                                     // 5: duplicate id
  '{"id": "e", "answer": "4"}',                                                        // 6: no prompt or messages
  '{"id": "f", "prompt": "2+2=", "answer": "4", "verifier": "maths"}',                 // 7: unknown verifier
  '{"id": "g", "prompt": "f?", "verifier": "code"}',                                   // 8: a code row without tests
  `{"id": "h", "prompt": "${'1+'.repeat(12)}1=", "answer": "13"}`,                      // 9: too long with its completion
  '{"id": "i", "prompt": "2\u00b72=", "answer": "4"}',                                 // 10: a character the tokenizer lacks
  '{"id": "j", "messages": [{"role": "user", "content": "2+2="}], "answer": "4"}',     // 11: messages, no chat template
  '{"id": "k", "prompt": "2+3=", "answer": "5", "completion": "5"}',
].join('\n');

/** The problems, in order: a string to match exactly, or a pattern. */
export const BAD_ROWS_PROBLEMS: (string | RegExp)[] = [
  /^line 2: not valid JSON \(/,
  'line 3: expected a JSON object, got an array',
  'line 4: id: required field is missing',
  'line 5: id "ok" is already used on line 1',
  'line 6: neither prompt nor messages is given',
  /^line 7: verifier: unknown verifier "maths"; known: math, code, /,
  'line 8: tests: required for a row scored by code (code)',
  'line 9: prompt is 27 tokens once templated; with rollout.maxNewTokens (8) that exceeds model.maxSeqLen (32)',
  'line 10: prompt: character "\u00b7" cannot be encoded by the run\'s tokenizer',
  'line 11: prompt: the built-in model has no chat template: give `prompt` text',
];

/** Whether `problems` are exactly the expected ones, in order. */
export function matchesBadRowsProblems(problems: string[]): boolean {
  return problems.length === BAD_ROWS_PROBLEMS.length
    && BAD_ROWS_PROBLEMS.every((p, k) => (typeof p === 'string' ? problems[k] === p : p.test(problems[k])));
}
