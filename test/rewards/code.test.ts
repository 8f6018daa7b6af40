// Run: npx vitest run test/rewards/code.test.ts
// The hostile corpus: every case must end within its limit as `incorrect` with the reason (the
// program's fault, not the sandbox's), and a normal case verified right after it must still pass. Needs root for the full isolation
// (namespaces, cgroups, uid drop); the fork-bomb test refuses to run the bomb without a process cap.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { verifyCode, probeIsolation, extractCode, runSandboxed, DEFAULT_LIMITS, type CodeLanguage, type CodeTest } from '../../rewards/index.js';

const LIMIT_MS = 1500;
const SLACK_MS = 4000; // spawn + kill + cleanup on a loaded 2-core machine (CI runs other test files beside this one)
const limits = { timeoutMs: LIMIT_MS };

const NORMAL: Record<CodeLanguage, { code: string; tests: CodeTest[] }> = {
  python: { code: 'def add(a, b):\n    return a + b\nprint(add(*map(int, input().split())))', tests: [{ stdin: '2 3', stdout: '5' }] },
  javascript: { code: 'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(" ").map(Number); console.log(a + b);', tests: [{ stdin: '2 3', stdout: '5' }] },
};

/** Processes owned by the sandbox uid range, anywhere on the machine. */
function sandboxProcesses(): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (uid >= 61000 && uid < 62000) n++;
    } catch { /* exited */ }
  }
  return n;
}

async function hostile(language: CodeLanguage, code: string, reason: RegExp, timeoutMs = LIMIT_MS) {
  const t0 = performance.now();
  const v = await verifyCode(code, [{ stdout: 'never' }], language, { timeoutMs });
  const wall = performance.now() - t0;
  expect(v.status, v.reason).toBe('incorrect');
  expect(v.score).toBe(0);
  expect(v.reason).toMatch(reason);
  expect(wall).toBeLessThan(timeoutMs + SLACK_MS);
  const ok = await verifyCode(NORMAL[language].code, NORMAL[language].tests, language, limits);
  expect(ok.status, ok.reason).toBe('correct');
  return v;
}

describe('code verifier: normal behaviour', () => {
  it('scores the fraction of tests passed, for both languages and both test kinds', async () => {
    const py = await verifyCode('```python\ndef sq(x):\n    return x * x\n```', [
      { assert: 'assert sq(3) == 9' }, { assert: 'assert sq(-2) == 4' }, { assert: 'assert sq(2) == 5' },
    ], 'python', limits);
    expect(py.status).toBe('incorrect');
    expect(py.score).toBeCloseTo(2 / 3);
    expect(py.reason).toMatch(/test 3: assertion failed/);
    const js = await verifyCode('```js\nfunction sq(x) { return x * x }\n```', [
      { assert: 'require("assert").strictEqual(sq(3), 9)' }, { stdin: '', stdout: '' },
    ], 'javascript', limits);
    expect(js).toMatchObject({ status: 'correct', score: 1 });
  });
  it('skips cases without tests or with an unknown language', async () => {
    expect((await verifyCode('x', [], 'python')).status).toBe('skipped');
    expect((await verifyCode('x', [{ stdout: '' }], 'ruby' as CodeLanguage)).status).toBe('skipped');
  });
  it('extracts the last fenced block of the language', () => {
    expect(extractCode('```js\na\n```\n```python\nb\n```\n```python\nc\n```', 'python')).toBe('c\n');
  });
});

describe('hostile corpus (JavaScript)', () => {
  it('infinite loop', () => hostile('javascript', 'for(;;){}', /timed out.*wall clock/));
  // V8's last-resort collections near the heap cap take a while on a loaded machine: a longer wall
  // clock here makes sure it is the memory cap, not the clock, that ends the bomb (seen in CI).
  it('memory bomb', () => hostile('javascript', 'const a=[]; for(;;) a.push(new Array(1e6).fill(1.5));', /SIG|memory|exit/, 8000));
  it('deep recursion', () => hostile('javascript', 'function f(n){ return f(n+1)+1 } f(0)', /Maximum call stack/));
  it('100 MB of output', () => hostile('javascript', 'const s="x".repeat(1<<20); for(let i=0;i<100;i++) process.stdout.write(s)', /output exceeded/));
  it('child processes are denied', () => hostile('javascript', 'require("child_process").execSync("echo hi")', /ERR_ACCESS_DENIED|Access to this API/));
  it('writes outside its folder are denied', async () => {
    await hostile('javascript', 'require("fs").writeFileSync("/var/tmp/creditflow-pwned-js", "x")', /ERR_ACCESS_DENIED|Access to this API/);
    expect(existsSync('/var/tmp/creditflow-pwned-js')).toBe(false);
  });
  it('network is unreachable', () => hostile('javascript', 'require("net").connect(80, "1.1.1.1").on("error", e => { console.error(e.code); process.exit(3) })', /ENETUNREACH|EACCES|ERR_ACCESS|exit 3|wall clock/));
});

describe('hostile corpus (Python)', () => {
  it('python3 is available to the sandbox', () => {
    expect(probeIsolation().python).not.toBeNull();
  });
  it('infinite loop', () => hostile('python', 'while True:\n    pass', /timed out.*wall clock/));
  it('memory bomb', () => hostile('python', 'x = []\nwhile True:\n    x.append(bytearray(10**7))', /MemoryError|memory|SIG/, 8000));
  it('deep recursion', () => hostile('python', 'import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1) + 1\nf(0)', /SIGSEGV|RecursionError|memory|exit|timed out/));
  it('100 MB of output', () => hostile('python', 'import sys\nsys.stdout.write("x" * 100_000_000)', /output exceeded/));
  it('writes outside its folder fail; /tmp is its own folder', async () => {
    await hostile('python', 'open("/tmp/creditflow-pwned-py", "w").write("x")\nopen("/etc/creditflow-pwned", "w").write("x")', /PermissionError|Read-only|exit 1/);
    expect(existsSync('/tmp/creditflow-pwned-py')).toBe(false);
    expect(existsSync('/etc/creditflow-pwned')).toBe(false);
  });
  it('the repository is hidden', () => hostile('python', 'import os\nprint(os.listdir("."))\nopen("' + process.cwd() + '/package.json").read()', /FileNotFoundError|exit 1/));
  it('network is unreachable', () => hostile('python', 'import socket\nsocket.create_connection(("1.1.1.1", 80), timeout=1)', /unreachable|OSError|timed out/));
  it('bounded "spawn many" is capped by the process limit', async () => {
    const code = 'import os, time\nn = 0\nfor i in range(200):\n    try:\n        if os.fork() == 0:\n            time.sleep(2)\n            os._exit(0)\n        n += 1\n    except OSError:\n        break\nprint(n)';
    const run = await runSandboxed('python', code, '', { ...DEFAULT_LIMITS, ...limits });
    expect(run.outcome).toBe('exited');
    const forked = Number(run.stdout.trim());
    // maxProcs is 32 (itself included); children of an earlier run may still be counted for a moment.
    expect(forked).toBeGreaterThan(0);
    expect(forked).toBeLessThanOrEqual(DEFAULT_LIMITS.maxProcs);
  });
  it('a real fork bomb is contained, ends within its limit and leaves no process behind', async () => {
    const iso = probeIsolation();
    // Refuse to run a bomb without a cap on processes (root ignores RLIMIT_NPROC).
    expect(iso.cgroup !== null || iso.dropUid || process.getuid?.() !== 0).toBe(true);
    await hostile('python', 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass', /wall clock|SIG/);
    // Killed processes are reaped asynchronously; none may survive for long.
    for (let k = 0; k < 30 && sandboxProcesses() > 0; k++) await new Promise((r) => setTimeout(r, 100));
    expect(sandboxProcesses()).toBe(0);
  });
});
