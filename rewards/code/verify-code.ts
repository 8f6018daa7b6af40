/**
 * Code reward: run the candidate against each test in its own sandboxed process; score = fraction
 * of tests passed. A hung or crashing test costs only its own timeout and does not stop the others.
 *
 * Tests are either I/O (`{ stdin, stdout }`: stdout compared line by line with trailing whitespace
 * ignored) or assertions (`{ assert }`: the snippet is appended to the program; exit 0 = pass).
 *
 * Status: `correct` when every test passes; `timeout` when any test hit the wall clock; `error`
 * when any test crashed for another reason than a failed check (exception, memory, output cap,
 * signal) or the sandbox could not start; otherwise `incorrect`. The score is the fraction passed
 * in every case, and the reason names the first failing test and what happened.
 */
import type { CodeLanguage, CodeTest, Verdict } from '../types.js';
import { runSandboxed, DEFAULT_LIMITS, type SandboxLimits, type SandboxRun } from './sandbox.js';

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

type TestOutcome = { pass: true } | { pass: false; kind: 'timeout' | 'error' | 'fail'; why: string };

/** The most telling line of a stderr: the last `SomethingError: …` line, else the last line. */
function tail(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Node\.js v\d/.test(l));
  const err = [...lines].reverse().find((l) => /(?:Error|Exception)\b.*:|\bcode: '/.test(l) && !/^at /.test(l));
  return (err ?? lines[lines.length - 1] ?? '').slice(0, 200);
}

function judge(run: SandboxRun, test: CodeTest, limits: SandboxLimits): TestOutcome {
  if (run.outcome === 'timeout') return { pass: false, kind: 'timeout', why: `killed after ${limits.timeoutMs} ms wall clock` };
  if (run.outcome === 'output-limit') return { pass: false, kind: 'error', why: `output exceeded ${limits.maxOutputBytes} bytes` };
  if (run.outcome === 'spawn-error') return { pass: false, kind: 'error', why: `sandbox failed: ${tail(run.stderr)}` };
  if (run.memoryLimitHit && run.code !== 0) return { pass: false, kind: 'error', why: `memory limit ${limits.memoryMb} MB: ${tail(run.stderr)}` };
  if (run.signal) return { pass: false, kind: 'error', why: `killed by ${run.signal}${tail(run.stderr) ? `: ${tail(run.stderr)}` : ''}` };
  if ('assert' in test) {
    if (run.code === 0) return { pass: true };
    return /AssertionError/.test(run.stderr)
      ? { pass: false, kind: 'fail', why: `assertion failed: ${tail(run.stderr)}` }
      : { pass: false, kind: 'error', why: `exit ${run.code}: ${tail(run.stderr)}` };
  }
  if (run.code !== 0) return { pass: false, kind: 'error', why: `exit ${run.code}: ${tail(run.stderr)}` };
  return sameOutput(run.stdout, test.stdout) ? { pass: true } : { pass: false, kind: 'fail', why: 'wrong output' };
}

export async function verifyCode(
  completion: string,
  tests: CodeTest[] | undefined,
  language: CodeLanguage | undefined,
  limits: Partial<SandboxLimits> = {},
): Promise<Verdict> {
  const t0 = performance.now();
  const done = (status: Verdict['status'], score: number, reason: string): Verdict => ({ status, score, reason, ms: performance.now() - t0 });
  if (!tests || tests.length === 0) return done('skipped', 0, 'no tests');
  if (language !== 'javascript' && language !== 'python') return done('skipped', 0, `unsupported language ${JSON.stringify(language)}`);
  const L = { ...DEFAULT_LIMITS, ...limits };
  const code = extractCode(completion, language);
  let passed = 0;
  const failures: Array<{ k: number; kind: 'timeout' | 'error' | 'fail'; why: string }> = [];
  for (let k = 0; k < tests.length; k++) {
    const t = tests[k];
    const source = 'assert' in t ? `${code}\n${t.assert}\n` : code;
    const run = await runSandboxed(language, source, 'assert' in t ? '' : t.stdin ?? '', L);
    const o = judge(run, t, L);
    if (o.pass) passed++;
    else failures.push({ k, kind: o.kind, why: o.why });
  }
  const score = passed / tests.length;
  if (failures.length === 0) return done('correct', 1, `${passed}/${tests.length} tests passed`);
  const worst = failures.find((f) => f.kind === 'timeout') ?? failures.find((f) => f.kind === 'error') ?? failures[0];
  const status = worst.kind === 'timeout' ? 'timeout' : worst.kind === 'error' ? 'error' : 'incorrect';
  return done(status, score, `${passed}/${tests.length} tests passed; test ${worst.k + 1}: ${worst.why}`);
}
