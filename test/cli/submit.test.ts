/** `creditflow submit` validates before it starts anything, and names the bad field. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
