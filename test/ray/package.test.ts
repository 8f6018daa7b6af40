/**
 * Working-dir packages: our zip read back by Python's zipfile (what Ray unpacks packages with), the
 * excludes, and content-addressed names.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPackageFiles, packWorkingDir } from '../../ray/client/index.js';

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-zip-'));
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
  mkdirSync(join(dir, '.git'));
  mkdirSync(join(dir, 'data', 'raw'), { recursive: true });
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'run.sh'), 0o755);
  writeFileSync(join(dir, 'src', 'deep', 'model.txt'), 'x'.repeat(10_000)); // compresses
  writeFileSync(join(dir, 'src', 'ünïcode.txt'), 'é');
  writeFileSync(join(dir, 'src', 'noise.log'), 'left out');
  writeFileSync(join(dir, 'node_modules', 'pkg', 'index.js'), 'left out');
  writeFileSync(join(dir, '.git', 'HEAD'), 'left out');
  writeFileSync(join(dir, 'data', 'raw', 'big.bin'), 'left out');
  writeFileSync(join(dir, 'data', 'keep.txt'), 'kept');
  return dir;
}

describe('working-dir packages', () => {
  it('leaves out .git and the excluded names and paths', () => {
    expect(listPackageFiles(folder(), { excludes: ['node_modules', '*.log', 'data/raw'] })).toEqual([
      'data/keep.txt', 'run.sh', 'src/deep/model.txt', 'src/ünïcode.txt',
    ]);
  });

  it('is a zip that Python\'s zipfile reads back byte for byte, with modes', () => {
    const dir = folder();
    const pkg = packWorkingDir(dir, { excludes: ['node_modules', '*.log', 'data/raw'] });
    const zipPath = join(dir, '..', `${pkg.uri.slice('gcs://'.length)}`);
    writeFileSync(zipPath, pkg.zip);
    const script = [
      'import json, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'assert z.testzip() is None',
      'print(json.dumps({i.filename: [z.read(i).decode("utf-8"), (i.external_attr >> 16) & 0o777, i.compress_type] for i in z.infolist()}))',
    ].join('\n');
    const read = JSON.parse(execFileSync('python3', ['-c', script, zipPath], { encoding: 'utf8' })) as Record<string, [string, number, number]>;
    expect(Object.keys(read)).toEqual(['data/keep.txt', 'run.sh', 'src/deep/model.txt', 'src/ünïcode.txt']);
    expect(read['run.sh'].slice(0, 2)).toEqual(['#!/bin/sh\necho hi\n', 0o755]);
    expect(read['src/deep/model.txt'][0]).toBe('x'.repeat(10_000));
    expect(read['src/deep/model.txt'][2]).toBe(8); // deflated
    expect(read['src/ünïcode.txt'][0]).toBe('é');
    expect(read['data/keep.txt'][2]).toBe(0); // 4 bytes: stored, deflate would grow it
  });

  it('names a package by its content: same files, same URI; a changed file, another', () => {
    const a = folder();
    const b = folder();
    expect(packWorkingDir(a).uri).toBe(packWorkingDir(b).uri);
    writeFileSync(join(b, 'data', 'keep.txt'), 'changed');
    expect(packWorkingDir(b).uri).not.toBe(packWorkingDir(a).uri);
  });
});
