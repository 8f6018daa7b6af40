/**
 * What isolation this machine offers, probed once per process (by running the real commands, not
 * by reading docs). The sandbox composes whatever is present; rewards/README.md lists what each
 * layer does and does not protect against.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, rmdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export interface Isolation {
  /** `unshare --net --pid --fork --kill-child --mount-proc` works (needs root or CAP_SYS_ADMIN). */
  namespaces: boolean;
  /** `setpriv` can drop to an unprivileged uid (needs root). */
  dropUid: boolean;
  /** `prlimit` exists (else `bash -c ulimit` is used). */
  prlimit: boolean;
  /** Parent folders of cgroup v1 `pids` and `memory` hierarchies we may create groups in, or null. */
  cgroup: { pids: string; memory: string } | null;
  /** Absolute path of a python3 the sandbox user can run, or null. */
  python: string | null;
  /** Why a layer is missing, for the README-style report `creditflow verify --isolation`. */
  notes: string[];
}

/** First uid of the range given to sandboxes; a slot's uid is this plus its index. */
export const SANDBOX_UID_BASE = 61000;

function ok(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

function probeCgroup(notes: string[]): Isolation['cgroup'] {
  const base = '/sys/fs/cgroup';
  const pids = join(base, 'pids', 'creditflow-sandbox');
  const memory = join(base, 'memory', 'creditflow-sandbox');
  try {
    for (const d of [pids, memory]) if (!existsSync(d)) mkdirSync(d);
    const probe = join(pids, `probe-${process.pid}`);
    mkdirSync(probe);
    writeFileSync(join(probe, 'pids.max'), '8');
    rmdirSync(probe);
    return { pids, memory };
  } catch (e) {
    notes.push(`no cgroup v1 pids/memory control: ${(e as Error).message}`);
    return null;
  }
}

function probePython(dropUid: boolean, notes: string[]): string | null {
  const candidates = ['/usr/bin/python3', '/usr/local/bin/python3'];
  const which = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 5000 });
  if (which.status === 0 && which.stdout.trim()) candidates.push(which.stdout.trim());
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const path = realpathSync(c);
    const runs = dropUid
      ? ok('setpriv', [`--reuid=${SANDBOX_UID_BASE}`, `--regid=${SANDBOX_UID_BASE}`, '--clear-groups', '--', path, '-I', '-c', 'pass'])
      : ok(path, ['-I', '-c', 'pass']);
    if (runs) return path;
  }
  notes.push('no python3 that the sandbox user can run');
  return null;
}

let cached: Isolation | null = null;

export function probeIsolation(): Isolation {
  if (cached) return cached;
  const notes: string[] = [];
  const namespaces = ok('unshare', ['--net', '--pid', '--fork', '--kill-child', '--mount-proc', '--', 'true']);
  if (!namespaces) notes.push('unshare of net/pid/mount namespaces not permitted: network is NOT blocked');
  const dropUid = ok('setpriv', [`--reuid=${SANDBOX_UID_BASE}`, `--regid=${SANDBOX_UID_BASE}`, '--clear-groups', '--no-new-privs', '--', 'true']);
  if (!dropUid) notes.push('cannot change uid: code runs as the current user');
  const prlimit = ok('prlimit', ['--nofile=64', '--', 'true']);
  const cgroup = probeCgroup(notes);
  const python = probePython(dropUid, notes);
  cached = { namespaces, dropUid, prlimit, cgroup, python, notes };
  return cached;
}
