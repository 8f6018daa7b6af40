/** One dev server per state folder: the lock refuses a second holder by name and takes over a dead one's. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { acquireStateLock, currentDevServer, lockFile, StateFolderLocked } from '../../server/state-lock.js';
import { tempStateDir } from '../support/harness.js';

const info = { address: '127.0.0.1:7233', uiUrl: 'http://localhost:8233', command: 'creditflow dev' };

describe('state folder lock', () => {
  it('refuses a second holder, naming the first, until it is released', () => {
    const home = tempStateDir('lock');
    const lock = acquireStateLock(home, info);
    expect(currentDevServer(home)).toMatchObject({ pid: process.pid, uiUrl: 'http://localhost:8233' });
    let error: unknown;
    try {
      acquireStateLock(home, { ...info, address: '127.0.0.1:7300', command: 'creditflow demo' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StateFolderLocked);
    expect((error as Error).message).toContain(`\`creditflow dev\` (pid ${process.pid} on ${hostname()}`);
    expect((error as Error).message).toContain('frontend 127.0.0.1:7233, Web UI http://localhost:8233');
    lock.release();
    expect(existsSync(lockFile(home))).toBe(false);
    acquireStateLock(home, info).release();
  });

  it('takes over the lock of a process that is gone', () => {
    const home = tempStateDir('lock-stale');
    // A pid that existed and has exited: a child that ran `true`.
    const dead = spawnSync('true').pid!;
    writeFileSync(lockFile(home), JSON.stringify({ ...info, pid: dead, host: hostname(), startedAt: '2026-01-01T00:00:00Z' }));
    expect(currentDevServer(home)).toBeNull();
    const lock = acquireStateLock(home, { ...info, command: 'creditflow demo' });
    expect(JSON.parse(readFileSync(lockFile(home), 'utf8'))).toMatchObject({ pid: process.pid, command: 'creditflow demo' });
    lock.release();
  });
});
