/**
 * `creditflow submit` with a data path that is not a data file: `/dev/zero`, a named pipe, a
 * directory, a sparse file over the size limit, a system file. Each is refused quickly by a real
 * submit process whose heap is capped at 256 MiB and whose run is cut off at 30 s, so reading the
 * device or waiting on the pipe would fail the test by its time or memory. The address is a closed
 * port: nothing gets as far as connecting.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOUNDS } from '../../configs/bounds.js';
import { PROJECT, tempStateDir } from '../support/harness.js';

const dir = tempStateDir('data-paths');

function submitWithData(path: string) {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `experiment: data-paths\ndata:\n  source: file\n  path: ${JSON.stringify(path)}\nwarmStart:\n  steps: 0\n`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--max-old-space-size=256', join(PROJECT, 'bin/creditflow.mjs'), 'submit', file, '--address', '127.0.0.1:1'], {
    encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL',
  });
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

describe('data paths that are not data files', () => {
  const fifo = join(dir, 'pipe');
  const big = join(dir, 'big.jsonl');
  mkdirSync(join(dir, 'folder'));
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  // Sparse: no disk is used, but its size is one byte over the limit.
  writeFileSync(big, '');
  truncateSync(big, BOUNDS.dataFileBytes.max + 1);

  it.each([
    ['/dev/zero', '/dev/zero', /\/dev\/zero: is a character device, not a regular file; a data file must be a regular file/],
    ['a named pipe', fifo, /pipe: is a named pipe \(FIFO\), not a regular file/],
    ['a directory', join(dir, 'folder'), /folder: is a directory, not a regular file/],
    ['a file over the size limit', big, /big\.jsonl: is 256 MiB, over the 256 MiB limit of a data file/],
  ])('refuses %s quickly and within bounded memory', (_label, path, message) => {
    const result = submitWithData(path);
    expect(result.signal).toBeNull(); // not killed by the 30 s cut-off
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain('started run');
    expect(result.seconds).toBeLessThan(30);
  }, 60_000);

  it('refuses a system file without quoting what it holds', () => {
    const secret = join(dir, 'shadow-like');
    writeFileSync(secret, Array.from({ length: 30 }, (_, k) => `user${k}:$6$saltsalt$hash-${k}:19000:0:99999:7:::`).join('\n'));
    const result = submitWithData(secret);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/not a JSONL file: none of its first 20 lines is JSON/);
    expect(result.stderr).not.toMatch(/user\d|saltsalt|hash-/);
  }, 60_000);
});
