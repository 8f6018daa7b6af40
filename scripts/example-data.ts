/**
 * Writes the data files of the example configs, from seeded generators, so they can be rebuilt and
 * checked (test/tasks/example-data.test.ts compares the committed files with a fresh run):
 *
 *   configs/data/python-functions.jsonl   600 Python functions with unit tests (configs/python-functions.yaml)
 *   configs/data/arithmetic-pairs.jsonl   preference pairs on sums and differences (configs/preference-file.yaml)
 *
 *   node --import tsx scripts/example-data.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sampleArithmetic } from '../tasks/arithmetic.js';
import { arithmeticPreferencePairs } from '../tasks/arithmetic-preferences.js';
import { toJsonl } from '../tasks/preference-pairs.js';
import { pythonFunctionRows } from '../tasks/python-functions.js';
import { rowsToJsonl } from '../tasks/rows.js';

/** The files, by path relative to the project root. */
export function exampleData(): Record<string, string> {
  // Training-side problems of the demo's split (splitSeed 0), so no pair is a held-out problem.
  const problems = sampleArithmetic('train', 1500, { splitSeed: 0, sampleSeed: 7 });
  return {
    'configs/data/python-functions.jsonl': rowsToJsonl(pythonFunctionRows(600, 0)),
    'configs/data/arithmetic-pairs.jsonl': toJsonl(arithmeticPreferencePairs(problems, { seed: 7, pairsPerPrompt: 2, maxDigits: 2 })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const [path, text] of Object.entries(exampleData())) {
    writeFileSync(root + path, text);
    console.log(`${path}: ${text.split('\n').length - 1} lines`);
  }
}
