/**
 * The example configs' data files are what scripts/example-data.ts writes (so they can be rebuilt),
 * and every reference solution of the Python set passes its own tests in python3.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleData } from '../../scripts/example-data.js';
import { pythonFunctionRows } from '../../tasks/python-functions.js';
import { PROJECT } from '../support/harness.js';

describe('example data', () => {
  it('the committed files are the generators\' output', () => {
    for (const [path, text] of Object.entries(exampleData())) expect(readFileSync(PROJECT + path, 'utf8'), path).toBe(text);
  });

  it('every Python reference solution passes its tests, and a wrong one fails them', () => {
    const rows = pythonFunctionRows(600, 0);
    // One python3 process runs them all: each function under its own name, then its asserts.
    const program = (completion: (k: number) => string) => rows.map((r, k) => `${completion(k).replace('def f(', `def f${k}(`)}\n${r.tests!.map((t) => ('assert' in t ? t.assert : '').replace('f(', `f${k}(`)).join('\n')}`).join('\n');
    expect(() => execFileSync('python3', ['-c', program((k) => rows[k].completion!)], { stdio: 'pipe' })).not.toThrow();
    expect(() => execFileSync('python3', ['-c', program((k) => rows[k].completion!.replace('return ', 'return 1 + '))], { stdio: 'pipe' })).toThrow(/AssertionError/);
    expect(new Set(rows.map((r) => r.id)).size).toBe(600);
  });
});
