/** `creditflow submit` validates before it starts anything, and names the bad field. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareData } from '../../activities/cpu.js';
import { loadRunConfigFile } from '../../configs/load.js';
import type { ExperimentConfig } from '../../configs/schema.js';
import { PROJECT, tempStateDir, testAddress, testClient } from '../support/harness.js';

function submit(yaml: string) {
  const file = join(tempStateDir('submit'), 'bad.yaml');
  writeFileSync(file, yaml);
  return spawnSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'submit', file, '--address', testAddress(), '--namespace', 'cli-submit'], { encoding: 'utf8' });
}

describe('creditflow submit', () => {
  it.each([
    ['unknown key', 'experiment: cli-bad-a\ndata:\n  source: arithmetic\nrun:\n  iteratons: 3\n', /unknown key run\.iteratons \(line 5\)/],
    ['wrong type', 'experiment: cli-bad-b\ndata:\n  source: arithmetic\nseed: one\n', /seed \(line 4\): .*expected number/],
    ['missing data', 'experiment: cli-bad-c\n', /data: required field is missing/],
  ])('rejects a config with a %s, naming the field, and starts nothing', async (_label, yaml, message) => {
    const result = submit(yaml);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain('started run');
    const client = await testClient('cli-submit');
    const experiment = yaml.match(/experiment: (\S+)/)![1];
    const count = await client.workflow.count(`Experiment = '${experiment}'`);
    await client.connection.close();
    expect(count.count).toBe(0);
  }, 60_000);

  it('copies the validated data into the run folder with its hash; the run reads the copy, not the path', async () => {
    const home = tempStateDir('submit-copy');
    const rows = (from: number) => Array.from({ length: 12 }, (_, k) => JSON.stringify({ id: `r${from + k}`, prompt: `${k}+${from}=`, answer: String(k + from) })).join('\n') + '\n';
    writeFileSync(join(home, 'train.jsonl'), rows(1));
    writeFileSync(join(home, 'held.jsonl'), rows(50));
    const file = join(home, 'copy.yaml');
    writeFileSync(file, 'experiment: cli-copy\ndata:\n  source: file\n  path: train.jsonl\n  heldOut: { path: held.jsonl }\nwarmStart:\n  steps: 0\n');
    const runId = `cli-copy-${Date.now()}`;
    const result = spawnSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'submit', file, '--id', runId, '--address', testAddress(), '--namespace', 'cli-submit'], {
      encoding: 'utf8', env: { ...process.env, CREDITFLOW_HOME: home },
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`started run ${runId}`);
    const client = await testClient('cli-submit');
    try {
      const dir = join(home, 'runs', runId);
      const manifest = JSON.parse(readFileSync(join(dir, 'rows', 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string }>; meta: Record<string, unknown> };
      const copied = readFileSync(join(dir, 'rows', 'train.jsonl'));
      expect(createHash('sha256').update(copied).digest('hex')).toBe(manifest.files['train.jsonl'].sha256);
      expect(result.stdout).toContain(manifest.files['train.jsonl'].sha256.slice(0, 12));
      expect(manifest.meta.copiedAt).toBe('submit');
      // The source files gone, the run's prepareData step still reads the same rows: from the copy.
      const config = loadRunConfigFile(file).config as ExperimentConfig;
      rmSync(join(home, 'train.jsonl'));
      rmSync(join(home, 'held.jsonl'));
      const prepared = prepareData(config, dir);
      expect(prepared.sha256['train.jsonl']).toBe(manifest.files['train.jsonl'].sha256);
      expect(prepared.metrics['data/trainRows']).toBe(12);
    } finally {
      await client.workflow.getHandle(runId).terminate('test done').catch(() => undefined);
      await client.connection.close();
    }
  }, 60_000);
});

