import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { intraOpThreadsFor, lastNativeSetupFailure, setNativeEnvDefaults } from '../../engine/native-env.js';
import { recordSetup } from '../../scripts/native/install.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('intra-op threads from the model width', () => {
  it('keeps small models on one thread and gives wider ones more, never more than the cores', () => {
    expect(intraOpThreadsFor(undefined, 8)).toBe(1);
    expect(intraOpThreadsFor(64, 8)).toBe(1);
    expect(intraOpThreadsFor(128, 8)).toBe(1);
    expect(intraOpThreadsFor(256, 8)).toBe(2);
    expect(intraOpThreadsFor(512, 8)).toBe(4);
    expect(intraOpThreadsFor(512, 2)).toBe(2);
    expect(intraOpThreadsFor(4096, 1)).toBe(1);
  });

  describe('setNativeEnvDefaults', () => {
    const saved = process.env.TF_NUM_INTRAOP_THREADS;
    afterEach(() => {
      if (saved === undefined) delete process.env.TF_NUM_INTRAOP_THREADS;
      else process.env.TF_NUM_INTRAOP_THREADS = saved;
    });

    it('sets the count from the width when unset', () => {
      delete process.env.TF_NUM_INTRAOP_THREADS;
      setNativeEnvDefaults(64);
      expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('1');
      delete process.env.TF_NUM_INTRAOP_THREADS;
      setNativeEnvDefaults(512);
      expect(process.env.TF_NUM_INTRAOP_THREADS).toBe(String(intraOpThreadsFor(512)));
    });

    it('leaves a user-set TF_NUM_INTRAOP_THREADS alone', () => {
      process.env.TF_NUM_INTRAOP_THREADS = '3';
      setNativeEnvDefaults(64);
      expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('3');
    });
  });
});

describe('the native setup result the worker reports at start', () => {
  it('gives the failed setup\'s line back, and nothing after a success or without a record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-native-setup-'));
    try {
      const file = join(dir, 'last-setup.json');
      expect(lastNativeSetupFailure(file)).toBeNull();
      recordSetup(false, 'pip download tensorflow-cpu==2.12.1 failed (exit 1): no index', file);
      expect(lastNativeSetupFailure(file)).toMatch(/^native setup at \d{4}-.*: pip download tensorflow-cpu==2\.12\.1 failed/);
      recordSetup(true, 'installed', file);
      expect(lastNativeSetupFailure(file)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm install\'s postinstall', () => {
  it('does nothing but say so when creditflow is installed as another project\'s dependency', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'cf-host-project-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/native/postinstall.ts'], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, INIT_CWD: elsewhere }, timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/native: skipped \(creditflow is a dependency here/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
