/**
 * Run one untrusted program in a separate, limited process. Layers, outermost first (each only
 * where {@link probeIsolation} found it works; see rewards/README.md for the guarantees and gaps):
 *
 * 1. cgroup v1: the process joins fresh `pids` (pids.max = maxProcs) and `memory`
 *    (limit = memoryMb) groups before anything else runs, so every descendant is counted;
 * 2. `unshare --net --pid --mount --fork --kill-child`: no network (a new, empty net namespace),
 *    its own pid namespace (killing its init kills every descendant), its own mounts;
 * 3. inside the mount namespace, as root: the fresh work folder is bind-mounted over every
 *    world-writable folder (/tmp, /var/tmp, /dev/shm, /run/lock) and an empty read-only tmpfs hides
 *    the repository and $HOME; the program runs with cwd = /tmp = its work folder;
 * 4. `prlimit`: RLIMIT_NPROC, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CPU, no core files;
 * 5. `setpriv`: an unprivileged uid per concurrent slot (61000+k), no groups, no-new-privs, so that
 *    RLIMIT_NPROC applies (root ignores it) and root-owned files are read-only;
 * 6. the interpreter: node with `--max-old-space-size` and the permission model (fs reads and writes
 *    only in its folder, no child processes, no worker threads); python3 in isolated mode `-I`.
 *
 * The parent enforces the wall clock (SIGKILL to the whole process group and cgroup) and the output
 * cap (stdout + stderr bytes; killed when exceeded).
 *
 * A run may carry a judge channel: fd 3 of the program is a socket on which the parent writes one
 * request and closes its side, and from which it reads what the judge (code/harness.*) answers.
 * The run ends as soon as `done(channel)` says the answer is complete.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile, rm, chown, chmod, readFile, mkdir, rmdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeIsolation, SANDBOX_UID_BASE } from './isolation.js';
import type { CodeLanguage } from '../types.js';

export interface SandboxLimits {
  timeoutMs: number;
  /** Memory of the whole process tree (cgroup) and address-space cap per process. */
  memoryMb: number;
  /** stdout + stderr bytes before the program is killed. */
  maxOutputBytes: number;
  /** Processes *and threads* (Linux counts both); node itself needs about 12. */
  maxProcs: number;
  /** Largest file the program may write. */
  maxFileBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 5000,
  memoryMb: 256,
  maxOutputBytes: 1 << 20,
  maxProcs: 32,
  maxFileBytes: 8 << 20,
};

export type SandboxOutcome = 'exited' | 'timeout' | 'output-limit' | 'spawn-error';

export interface SandboxRun {
  outcome: SandboxOutcome;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The memory cgroup recorded at least one allocation failure (OOM). */
  memoryLimitHit: boolean;
  /** What arrived on fd 3 (runs with a judge channel only), at most 64 KB. */
  channel?: string;
}

/** What to run: files written to the fresh folder, the one to start, and an optional judge channel. */
export interface SandboxProgram {
  language: CodeLanguage;
  files: Record<string, string>;
  entry: string;
  stdin?: string;
  /** Interpreter flags before the entry file (node: `--frozen-intrinsics`). */
  flags?: string[];
  /** Written to fd 3, which is then closed by the parent; fd 3 is not opened without it. */
  request?: string;
  /** The channel's content so far is a complete answer: stop the run. */
  done?: (channel: string) => boolean;
}

const MAX_CHANNEL_BYTES = 1 << 16;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// /tmp last: once it is bound, the work folder's own path (under /tmp) no longer resolves.
const WRITABLE_DIRS = ['/var/tmp', '/dev/shm', '/run/lock', '/tmp'];

/** Slots: each concurrent run gets its own uid so RLIMIT_NPROC is not shared between runs. */
const slotsInUse = new Set<number>();
function takeSlot(): number {
  let k = 0;
  while (slotsInUse.has(k)) k++;
  slotsInUse.add(k);
  return k;
}

function interpreter(language: CodeLanguage, file: string, dir: string, limits: SandboxLimits, python: string | null, flags: string[]): string[] {
  if (language === 'javascript') {
    const heap = Math.max(16, Math.floor(limits.memoryMb * 0.75));
    return [
      process.execPath, `--max-old-space-size=${heap}`, '--v8-pool-size=1', '--no-warnings',
      '--experimental-permission', `--allow-fs-read=${dir}`, `--allow-fs-write=${dir}`, ...flags, file,
    ];
  }
  if (!python) throw new Error('python3 is not available to the sandbox');
  return [python, '-I', '-B', ...flags, file];
}

let runCounter = 0;

/** Run `source` as a program of `language`, with `stdin`, under the limits. Never throws for program behaviour. */
export function runSandboxed(language: CodeLanguage, source: string, stdin: string, limits: SandboxLimits): Promise<SandboxRun> {
  const file = language === 'javascript' ? 'main.js' : 'main.py';
  return runProgram({ language, files: { [file]: source }, entry: file, stdin }, limits);
}

/** Run a {@link SandboxProgram} under the limits. Never throws for program behaviour. */
export async function runProgram(program: SandboxProgram, limits: SandboxLimits): Promise<SandboxRun> {
  const { language } = program;
  const iso = probeIsolation();
  const t0 = performance.now();
  const slot = takeSlot();
  const uid = SANDBOX_UID_BASE + slot;
  const dir = await mkdtemp(join(tmpdir(), 'creditflow-sbx-'));
  const file = program.entry;
  // Inside the mount namespace the folder is seen as /tmp; without namespaces, as itself.
  const seenDir = iso.namespaces ? '/tmp' : dir;
  let cgroups: string[] = [];
  try {
    for (const [name, content] of Object.entries(program.files)) {
      await writeFile(join(dir, name), content);
      if (iso.dropUid) await chown(join(dir, name), uid, uid);
    }
    if (iso.dropUid) await chown(dir, uid, uid);
    await chmod(dir, 0o700);

    let argv = interpreter(language, join(seenDir, file), seenDir, limits, iso.python, program.flags ?? []);
    if (iso.dropUid) argv = ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--', ...argv];
    // Node reserves ~1 GB of address space up front; its heap flag is the real cap there.
    const asMb = language === 'javascript' ? limits.memoryMb + 1536 : limits.memoryMb + 64;
    const cpuS = Math.ceil(limits.timeoutMs / 1000) + 1;
    if (iso.prlimit) {
      argv = ['prlimit', `--nproc=${limits.maxProcs}`, `--as=${asMb << 20}`, `--fsize=${limits.maxFileBytes}`,
        '--nofile=64', '--core=0', `--cpu=${cpuS}`, '--', ...argv];
    } else {
      argv = ['bash', '-c', `ulimit -u ${limits.maxProcs} -v ${asMb << 10} -f ${Math.ceil(limits.maxFileBytes / 512)} -n 64 -c 0 -t ${cpuS} && exec "$@"`, 'bash', ...argv];
    }
    if (iso.namespaces) {
      const hide = [REPO_ROOT, homedir()].filter((p) => p !== '/' && existsSync(p));
      const script = [
        'W=$1; shift',
        // Hide first: the repository may live under /tmp (a CI clone), which the binds below replace.
        ...hide.map((d) => `mount -t tmpfs -o ro,size=4k,mode=755 none '${d.replace(/'/g, '')}' || exit 122`),
        ...WRITABLE_DIRS.filter((d) => existsSync(d)).map((d) => `mount --bind "$W" ${d} || exit 121`),
        'cd /tmp || exit 123',
        'exec "$@"',
      ].join('\n');
      argv = ['unshare', '--net', '--pid', '--mount', '--fork', '--kill-child', '--mount-proc', '--', '/bin/sh', '-c', script, 'sh', dir, ...argv];
    }
    if (iso.cgroup) {
      const id = `r${process.pid}-${++runCounter}`;
      const pids = join(iso.cgroup.pids, id);
      const mem = join(iso.cgroup.memory, id);
      await mkdir(pids);
      cgroups.push(pids);
      await writeFile(join(pids, 'pids.max'), String(limits.maxProcs + 4));
      await mkdir(mem);
      cgroups.push(mem);
      await writeFile(join(mem, 'memory.limit_in_bytes'), String(limits.memoryMb << 20));
      argv = ['/bin/sh', '-c', 'echo $$ > "$1/cgroup.procs" && echo $$ > "$2/cgroup.procs" && shift 2 && exec "$@"', 'sh', pids, mem, ...argv];
    }
    return await execute(argv, iso.namespaces ? '/' : dir, program, limits, cgroups, t0);
  } catch (e) {
    return { outcome: 'spawn-error', code: null, signal: null, stdout: '', stderr: String((e as Error).message), ms: performance.now() - t0, memoryLimitHit: false };
  } finally {
    slotsInUse.delete(slot);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    cgroups = cgroups.reverse();
    for (const cg of cgroups) await removeCgroup(cg);
  }
}

async function killCgroup(cg: string): Promise<void> {
  const procs = await readFile(join(cg, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const p of procs.split('\n').filter(Boolean)) {
    try { process.kill(Number(p), 'SIGKILL'); } catch { /* already gone */ }
  }
}

async function removeCgroup(cg: string): Promise<void> {
  for (let k = 0; k < 50; k++) {
    try { await rmdir(cg); return; } catch {
      await killCgroup(cg);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function execute(argv: string[], cwd: string, program: SandboxProgram, limits: SandboxLimits, cgroups: string[], t0: number): Promise<SandboxRun> {
  return new Promise((resolvePromise) => {
    const withChannel = program.request !== undefined;
    const child = spawn(argv[0], argv.slice(1), {
      cwd,
      detached: true, // own process group, so that a kill reaches every descendant
      stdio: withChannel ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', PYTHONHASHSEED: '0', UV_THREADPOOL_SIZE: '1' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let outcome: SandboxOutcome = 'exited';
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

    const kill = (why: SandboxOutcome) => {
      if (outcome === 'exited') outcome = why;
      try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      for (const cg of cgroups) void killCgroup(cg);
      // If a descendant escaped the group and holds the pipes open, stop waiting for them.
      setTimeout(() => finish(), 2000).unref();
    };
    const timer = setTimeout(() => kill('timeout'), limits.timeoutMs);

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      const room = limits.maxOutputBytes - bytes;
      if (chunk.length > room) {
        if (room > 0) into.push(chunk.subarray(0, room));
        bytes = limits.maxOutputBytes;
        kill('output-limit');
        return;
      }
      bytes += chunk.length;
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => undefined); // EPIPE when the program does not read its input
    child.stdin.end(program.stdin ?? '');
    let channel = '';
    if (withChannel) {
      const fd3 = child.stdio[3] as import('node:net').Socket;
      fd3.on('error', () => undefined); // the program may close its end
      fd3.on('data', (chunk: Buffer) => {
        if (channel.length >= MAX_CHANNEL_BYTES) return;
        channel += chunk.toString('utf8').slice(0, MAX_CHANNEL_BYTES - channel.length);
        if (program.done?.(channel)) {
          // The judge has answered: whatever the program still does (timers, handlers) is moot.
          try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
          for (const cg of cgroups) void killCgroup(cg);
          setTimeout(() => finish(), 2000).unref();
        }
      });
      fd3.end(program.request ?? '');
    }

    const finish = async () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      (child.stdio[3] as import('node:net').Socket | undefined)?.destroy();
      let memoryLimitHit = false;
      const mem = cgroups.find((c) => c.includes('/memory/'));
      if (mem) memoryLimitHit = Number(await readFile(join(mem, 'memory.failcnt'), 'utf8').catch(() => '0')) > 0;
      resolvePromise({
        outcome,
        code: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - t0,
        memoryLimitHit,
        ...(withChannel ? { channel } : {}),
      });
    };
    child.on('exit', (code, signal) => { exit = { code, signal }; });
    child.on('close', () => void finish());
    child.on('error', (e) => {
      outcome = 'spawn-error';
      err.push(Buffer.from(e.message));
      void finish();
    });
  });
}
