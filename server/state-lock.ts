/**
 * One dev server per state folder. The embedded dev server keeps its history in
 * `<state>/temporal.sqlite`; two servers on one SQLite file corrupt each other's view of every run.
 * `creditflow dev` and `demo` take `<state>/dev-server.lock` (created exclusively) before starting
 * one, and a second is refused with a message naming the holder. The file also tells the other
 * commands which Web UI belongs to that server, so their links point at the port in use.
 *
 * A holder that died without cleaning up (SIGKILL, a machine restart) leaves a stale file: it is
 * taken over when its process is gone.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface DevServerLock {
  pid: number;
  host: string;
  /** Frontend `host:port`. */
  address: string;
  uiUrl: string | null;
  startedAt: string;
  /** What took it: `creditflow dev`, `creditflow demo`. */
  command: string;
}

export const lockFile = (home: string) => join(home, 'dev-server.lock');

export class StateFolderLocked extends Error {
  override name = 'StateFolderLocked';
  constructor(public readonly home: string, public readonly holder: DevServerLock) {
    super(`the state folder ${home} is in use by another dev server: \`${holder.command}\` (pid ${holder.pid} on ${holder.host}, `
      + `since ${holder.startedAt}), frontend ${holder.address}${holder.uiUrl ? `, Web UI ${holder.uiUrl}` : ''}. `
      + `Use that one (\`--address ${holder.address}\`), stop it first, or pick another folder with CREDITFLOW_HOME.`);
  }
}

function alive(lock: DevServerLock): boolean {
  if (lock.host !== hostname()) return true; // cannot tell from here: assume it runs
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(home: string): DevServerLock | null {
  try {
    return JSON.parse(readFileSync(lockFile(home), 'utf8')) as DevServerLock;
  } catch {
    return null;
  }
}

/** The dev server that holds this state folder now, if any. */
export function currentDevServer(home: string): DevServerLock | null {
  const lock = readLock(home);
  return lock && alive(lock) ? lock : null;
}

/** Takes the folder for a dev server; throws StateFolderLocked naming the holder. `release()` gives it back. */
export function acquireStateLock(home: string, info: Omit<DevServerLock, 'pid' | 'host' | 'startedAt'>): { release(): void } {
  mkdirSync(home, { recursive: true });
  const lock: DevServerLock = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...info };
  // Written aside, then linked into place: the link fails if a lock exists, and a reader never sees a half-written one.
  const aside = `${lockFile(home)}.${process.pid}`;
  writeFileSync(aside, `${JSON.stringify(lock, null, 2)}\n`);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(aside, lockFile(home));
        return lockHandle(home);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = readLock(home);
        if (holder && alive(holder)) throw new StateFolderLocked(home, holder);
        // Stale: its process is gone. Take it over.
        if (existsSync(lockFile(home))) rmSync(lockFile(home), { force: true });
      }
    }
  } finally {
    rmSync(aside, { force: true });
  }
  throw new Error(`could not take ${lockFile(home)}`);
}

function lockHandle(home: string): { release(): void } {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (readLock(home)?.pid === process.pid) rmSync(lockFile(home), { force: true });
    },
  };
}
