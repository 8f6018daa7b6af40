/**
 * Code reward: run the candidate against each test in its own sandboxed process; score = fraction
 * of tests passed. A hung or crashing test costs only its own timeout and does not stop the others.
 *
 * Tests are either I/O (`{ stdin, stdout }`: stdout compared line by line with trailing whitespace
 * ignored; the program must also exit 0) or assertions (`{ assert }`: test code run by a judge,
 * code/harness.py or code/harness.cjs). An assertion test passes only when the judge says so on
 * its own channel, after the test returned, with the run's nonce: the exit status, the program's
 * output and anything the program writes elsewhere do not count. A test that is one expression is
 * asserted (`add(2, 3) == 5` must be true).
 *
 * Status: `correct` when every test passes; `incorrect` when a test fails, the program raises, exits
 * early, runs out of time, memory or output (the reason names the first failing test and why);
 * `error` only when the sandbox itself fails (cannot start). The score is the fraction passed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CodeLanguage, CodeTest, Verdict } from '../types.js';
import { runProgram, DEFAULT_LIMITS, type SandboxLimits, type SandboxProgram, type SandboxRun } from './sandbox.js';

const HARNESS: Record<CodeLanguage, { file: string; program: string; source: string; flags: string[] }> = {
  python: { file: 'harness.py', program: 'main.py', source: readFileSync(new URL('./harness.py', import.meta.url), 'utf8'), flags: [] },
  javascript: { file: 'harness.cjs', program: 'main.js', source: readFileSync(new URL('./harness.cjs', import.meta.url), 'utf8'), flags: ['--frozen-intrinsics'] },
};

/** The last fenced block, preferring one tagged with the language; else the whole completion. */
export function extractCode(completion: string, language: CodeLanguage): string {
  const blocks = [...completion.matchAll(/```([A-Za-z0-9+]*)[^\n]*\n([\s\S]*?)```/g)];
  if (blocks.length === 0) return completion;
  const tags = language === 'python' ? ['python', 'py', 'python3'] : ['javascript', 'js', 'node'];
  const tagged = blocks.filter((b) => tags.includes(b[1].toLowerCase()));
  return (tagged.length ? tagged : blocks)[(tagged.length ? tagged : blocks).length - 1][2];
}

function sameOutput(actual: string, expected: string): boolean {
  const lines = (s: string) => s.replace(/\r\n/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').trimEnd();
  return lines(actual) === lines(expected);
}

/** `fail`: the program's fault (incorrect); `error`: the sandbox's (error). */
type TestOutcome = { pass: true } | { pass: false; kind: 'fail' | 'error'; why: string };

/** The most telling line of a stderr: the last `SomethingError: …` line, else the last line. */
function tail(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Node\.js v\d/.test(l));
  const err = [...lines].reverse().find((l) => /(?:Error|Exception)\b.*:|\bcode: '/.test(l) && !/^at /.test(l));
  return (err ?? lines[lines.length - 1] ?? '').slice(0, 200);
}

/** Why a run ended without a result, when the program is to blame; null when it ran to its end. */
function abnormalEnd(run: SandboxRun, limits: SandboxLimits): TestOutcome | null {
  if (run.outcome === 'spawn-error') return { pass: false, kind: 'error', why: `sandbox failed: ${tail(run.stderr)}` };
  if (run.outcome === 'timeout') return { pass: false, kind: 'fail', why: `timed out (killed after ${limits.timeoutMs} ms wall clock)` };
  if (run.outcome === 'output-limit') return { pass: false, kind: 'fail', why: `output exceeded ${limits.maxOutputBytes} bytes` };
  if (run.memoryLimitHit && run.code !== 0) return { pass: false, kind: 'fail', why: `memory limit ${limits.memoryMb} MB: ${tail(run.stderr)}` };
  if (run.signal) return { pass: false, kind: 'fail', why: `killed by ${run.signal}${tail(run.stderr) ? `: ${tail(run.stderr)}` : ''}` };
  return null;
}

/** The judge's answer on the channel: the line that carries this run's nonce. */
function judgeAnswer(channel: string | undefined, nonce: string): { pass: boolean; why: string } | null {
  for (const line of (channel ?? '').split('\n')) {
    try {
      const a = JSON.parse(line) as { nonce?: unknown; pass?: unknown; why?: unknown };
      if (a.nonce === nonce && typeof a.pass === 'boolean') return { pass: a.pass, why: String(a.why ?? '') };
    } catch { /* not a judge line */ }
  }
  return null;
}

async function assertTest(code: string, test: string, language: CodeLanguage, limits: SandboxLimits): Promise<TestOutcome> {
  const h = HARNESS[language];
  const nonce = randomBytes(16).toString('hex');
  const program: SandboxProgram = {
    language,
    files: { [h.program]: code, [h.file]: h.source },
    entry: h.file,
    flags: h.flags,
    request: JSON.stringify({ nonce, test }),
    done: (channel) => judgeAnswer(channel, nonce) !== null,
  };
  const run = await runProgram(program, limits);
  const answer = judgeAnswer(run.channel, nonce);
  if (answer) return answer.pass ? { pass: true } : { pass: false, kind: 'fail', why: answer.why };
  const end = abnormalEnd(run, limits);
  if (end) return end;
  return { pass: false, kind: 'fail', why: `no verdict from the judge: the program ended it (exit ${run.code}${tail(run.stderr) ? `: ${tail(run.stderr)}` : ''})` };
}

async function ioTest(code: string, test: { stdin?: string; stdout: string }, language: CodeLanguage, limits: SandboxLimits): Promise<TestOutcome> {
  const file = HARNESS[language].program;
  const run = await runProgram({ language, files: { [file]: code }, entry: file, stdin: test.stdin ?? '' }, limits);
  const end = abnormalEnd(run, limits);
  if (end) return end;
  if (run.code !== 0) return { pass: false, kind: 'fail', why: `exit ${run.code}: ${tail(run.stderr)}` };
  return sameOutput(run.stdout, test.stdout) ? { pass: true } : { pass: false, kind: 'fail', why: 'wrong output' };
}

export async function verifyCode(
  completion: string,
  tests: CodeTest[] | undefined,
  language: CodeLanguage | undefined,
  limits: Partial<SandboxLimits> = {},
): Promise<Verdict> {
  const t0 = performance.now();
  const done = (status: Verdict['status'], score: number, reason: string): Verdict => ({ status, score, reason: reason.slice(0, 200), ms: performance.now() - t0 });
  if (!tests || tests.length === 0) return done('skipped', 0, 'no tests');
  if (language !== 'javascript' && language !== 'python') return done('skipped', 0, `unsupported language ${JSON.stringify(language)}`);
  const L = { ...DEFAULT_LIMITS, ...limits };
  const code = extractCode(completion, language);
  let passed = 0;
  const failures: Array<{ k: number; kind: 'fail' | 'error'; why: string }> = [];
  for (let k = 0; k < tests.length; k++) {
    const t = tests[k];
    const o = 'assert' in t ? await assertTest(code, t.assert, language, L) : await ioTest(code, t, language, L);
    if (o.pass) passed++;
    else failures.push({ k, kind: o.kind, why: o.why });
  }
  const score = passed / tests.length;
  if (failures.length === 0) return done('correct', 1, `${passed}/${tests.length} tests passed`);
  const worst = failures.find((f) => f.kind === 'error') ?? failures[0];
  return done(worst.kind === 'error' ? 'error' : 'incorrect', score, `${passed}/${tests.length} tests passed; test ${worst.k + 1}: ${worst.why}`);
}
