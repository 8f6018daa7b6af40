/**
 * A local Ray for the tests and the bench: `ray[default]` from PyPI in a virtual environment of the
 * project's own, under the cache folder (`.creditflow/cache/ray-<version>/`). Found there, or
 * installed once (about 2 minutes on two shared cores with an empty pip cache, ~380 MB on disk).
 *
 * Only the tests and the bench need it: a user's Ray cluster runs its own Ray, which creditflow
 * talks to over HTTP.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { cacheDir } from '../../store/paths.js';

/** The Ray release the tests run against (the job API is version "4" across Ray 2.x). */
export const RAY_VERSION = '2.60.0';

export interface RayInstall {
  /** The `ray` command of the virtual environment. */
  ray: string;
  python: string;
  version: string;
  /** Seconds the install took (0: it was there already). */
  installSeconds: number;
}

const venvDir = () => join(cacheDir(), `ray-${RAY_VERSION}`);
const marker = () => join(venvDir(), 'creditflow-installed.json');
const lockDir = () => `${venvDir()}.lock`;

function pythonOnPath(): string | undefined {
  for (const name of ['python3', 'python']) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

/** The installed Ray, if a complete install is in the cache. */
export function findRay(): RayInstall | undefined {
  if (!existsSync(marker())) return undefined;
  const bin = join(venvDir(), 'bin');
  return { ray: join(bin, 'ray'), python: join(bin, 'python'), version: RAY_VERSION, installSeconds: 0 };
}

/** Synchronous sleep, for the install lock (the install itself blocks anyway). */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * One install at a time (test files start in parallel): a lock folder, taken over when its holder
 * has been at it for longer than any install takes.
 */
function withInstallLock<T>(work: () => T): T {
  mkdirSync(cacheDir(), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir());
      break;
    } catch {
      const held = statSync(lockDir(), { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 15 * 60_000) rmSync(lockDir(), { recursive: true, force: true });
      else pause(1000);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lockDir(), { recursive: true, force: true });
  }
}

/** Find Ray in the cache, else install it there; `log` says which and how long it took. */
export function ensureRay(log: (line: string) => void = (l) => console.log(l)): RayInstall {
  const found = findRay();
  if (found) return found;
  return withInstallLock(() => {
    const done = findRay(); // installed by whoever held the lock before us
    if (done) return done;
    const python = pythonOnPath();
    if (!python) throw new Error('installing Ray for creditflow needs python3 on PATH (3.10-3.13)');
    const started = performance.now();
    rmSync(venvDir(), { recursive: true, force: true });
    log(`installing ray[default]==${RAY_VERSION} from PyPI into ${venvDir()} ...`);
    const run = (cmd: string, args: string[]) => {
      const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
      if (result.status !== 0) {
        const why = (result.stderr || result.stdout || result.error?.message || '').trim().split('\n').slice(-5).join('\n');
        throw new Error(`Ray install failed: ${cmd} ${args.join(' ')}\n${why}`);
      }
    };
    run(python, ['-m', 'venv', venvDir()]);
    run(join(venvDir(), 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', `ray[default]==${RAY_VERSION}`]);
    const installSeconds = (performance.now() - started) / 1000;
    writeFileSync(marker(), JSON.stringify({ version: RAY_VERSION, installSeconds, date: new Date().toISOString() }));
    log(`Ray ${RAY_VERSION} installed in ${installSeconds.toFixed(0)} s`);
    return { ...findRay()!, installSeconds };
  });
}

/** Seconds the cached install took, as recorded when it was made. */
export function recordedInstallSeconds(): number | undefined {
  if (!existsSync(marker())) return undefined;
  return (JSON.parse(readFileSync(marker(), 'utf8')) as { installSeconds?: number }).installSeconds;
}
