// Run: npx vitest run test/rewards/verify-cli.test.ts
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from '../../cli/commands/verify.js';

const LINES = [
  JSON.stringify({ id: 'a', verifier: 'math', completion: '12+35=47', gold: '47' }),
  '{"id": "broken", ',
  JSON.stringify({ id: 'b', verifier: 'math', completion: '\\boxed{\\frac{\\pi}{2}}', gold: '\\dfrac{\\pi}{2}' }),
  '',
  JSON.stringify({ id: 'c', verifier: 'math', gold: '3' }),
  JSON.stringify({ id: 'd', verifier: 'code', language: 'python', completion: 'print(int(input()) * 2)', gold: '', tests: [{ stdin: '4', stdout: '8' }] }),
  JSON.stringify({ id: 7, verifier: 'math', completion: '\\boxed{2}', gold: '3' }),
];

function parse(out: string) {
  return out.trim().split('\n').map((l) => JSON.parse(l) as { id: string | null; status: string; score: number; reason: string; line?: number });
}

function check(rows: ReturnType<typeof parse>) {
  expect(rows.map((r) => [r.id, r.status])).toEqual([
    ['a', 'correct'], [null, 'error'], ['b', 'correct'], [null, 'error'], ['d', 'correct'], ['7', 'incorrect'],
  ]);
  expect(rows[1].reason).toMatch(/^line 2: invalid JSON/);
  expect(rows[3].reason).toMatch(/^line 5: completion/);
  for (const r of rows) expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'status', 'score', 'reason']));
}

describe('creditflow verify', () => {
  it('as a real process, reading --input, exits 2 on malformed lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-verify-'));
    try {
      const file = join(dir, 'in.jsonl');
      writeFileSync(file, `${LINES.join('\n')}\n`);
      const p = spawnSync(process.execPath, ['--import', 'tsx', 'cli/commands/verify.ts', '--input', file, '--timeout', '4000', '--concurrency', '1'], { encoding: 'utf8', timeout: 50_000 });
      expect(p.status, p.stderr).toBe(2);
      check(parse(p.stdout));
      expect(p.stderr).toMatch(/2 malformed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through run() with injected streams, reading stdin', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d) => { out += d; });
    stdin.end(`${LINES.join('\n')}\n`);
    const code = await run(['--concurrency', '2'], { stdin, stdout, stderr });
    expect(code).toBe(2);
    check(parse(out));
  });

  it('--explain says, per math check, what was extracted by which rule and how it was compared', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d) => { out += d; });
    stdin.end([
      JSON.stringify({ id: 'm', verifier: 'math', completion: 'First \\boxed{3}. Wait, the answer is $\\frac{10}{2}$.', gold: '5' }),
      JSON.stringify({ id: 'g', verifier: 'math-think-answer', completion: '<think>2+2</think> <answer>4</answer>', gold: '4' }),
      JSON.stringify({ id: 't', verifier: 'math', completion: 'so far $3+4=7$ and', gold: '7', truncated: true }),
    ].join('\n'));
    expect(await run(['--explain', '--concurrency', '1'], { stdin, stdout, stderr: new PassThrough() })).toBe(0);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: string; explain: Array<Record<string, string>> });
    expect(rows[0]).toMatchObject({ id: 'm', status: 'correct' });
    expect(rows[0].explain).toEqual([expect.objectContaining({ part: 'math', rule: 'answer', extracted: '\\frac{10}{2}', gold: '5' })]);
    expect(rows[0].explain[0].comparison).toMatch(/equal values \(5\)/);
    expect(rows[1]).toMatchObject({ id: 'g', status: 'correct' });
    expect(rows[1].explain).toEqual([expect.objectContaining({ part: 'part 2: math', rule: 'answer-tag', extracted: '4' })]);
    expect(rows[2]).toMatchObject({ id: 't', status: 'incorrect' });
    expect(rows[2].explain[0].comparison).toMatch(/truncated/);
  });

  it('all-valid input exits 0; bad flags exit 64; a missing file is reported', async () => {
    const mk = () => { const s = new PassThrough(); let t = ''; s.on('data', (d) => { t += d; }); return { s, text: () => t }; };
    const o = mk();
    const e = mk();
    const stdin = new PassThrough();
    stdin.end(`${LINES[0]}\n`);
    expect(await run(['--concurrency', '1'], { stdin, stdout: o.s, stderr: e.s })).toBe(0);
    expect(parse(o.text())).toHaveLength(1);
    expect(await run(['--bogus'], { stdin: new PassThrough(), stdout: o.s, stderr: e.s })).toBe(64);
    expect(await run(['--input', '/nonexistent/x.jsonl'], { stdin: new PassThrough(), stdout: o.s, stderr: e.s })).toBe(66);
    expect(e.text()).toMatch(/cannot read \/nonexistent/);
  });
});
