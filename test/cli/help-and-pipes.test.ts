/**
 * The CLI without a server: per-command help from one definition, `creditflow config` printing the
 * schema's own field descriptions, usage errors, and a closed pipe (`| head`) ending quietly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptimizerSchema, RunSchema } from '../../configs/schema.js';
import { SweepSchema } from '../../configs/sweep-schema.js';
import { PROJECT } from '../support/harness.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });

describe('creditflow help and config', () => {
  it('gives each command its own help with every option', () => {
    const submit = cli('submit', '--help');
    expect(submit.status).toBe(0);
    for (const flag of ['--set', '--id', '--from', '--watch', '--dry-run', '--address', '--namespace']) expect(submit.stdout).toContain(flag);
    const dev = cli('help', 'dev');
    expect(dev.status).toBe(0);
    for (const flag of ['--port', '--ui-port', '--backend']) expect(dev.stdout).toContain(flag);
    const top = cli('--help');
    for (const command of ['submit', 'sweep', 'resume', 'status', 'config', 'report']) expect(top.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('refuses unknown options and missing arguments with exit code 2', () => {
    expect(cli('submit').status).toBe(2);
    const bad = cli('status', 'x', '--bogus');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--bogus'/);
    expect(cli('nope').status).toBe(2);
  });

  it('prints every field of a section with its type, default and the schema\'s own description', () => {
    const out = cli('config', 'optimizer');
    expect(out.status, out.stderr).toBe(0);
    const text = out.stdout.replace(/\s+/g, ' ');
    for (const [key, field] of Object.entries(OptimizerSchema.shape)) {
      expect(out.stdout).toContain(`optimizer.${key}:`);
      expect(text).toContain((field as { description?: string }).description!.replace(/\s+/g, ' '));
    }
    expect(out.stdout).toMatch(/optimizer\.lr: number > 0 = 0\.0006/);
    // The bound from configs/bounds.ts is part of the type line.
    expect(out.stdout).toMatch(/optimizer\.miniBatchSize: integer ≥ 1, ≤ 1048576 \(optional\)/);
    const all = cli('config');
    for (const key of Object.keys(RunSchema.shape)) expect(all.stdout).toContain(`run.${key}:`);
    expect(all.stdout).toMatch(/^data: .*\(required\)|^data:/m);
    expect(all.stdout).toContain('tracking: list of (one of: tensorboard | mlflow) (optional)');
    const sweep = cli('config', '--kind', 'sweep');
    for (const key of Object.keys(SweepSchema.shape)) expect(sweep.stdout).toContain(`sweep.${key}:`);
    const preference = cli('config', 'objective', '--kind', 'preference');
    expect(preference.stdout).toContain('objective[name=critical-token-dpo].betaCe: number ≥ 0 = 1');
    const unknown = cli('config', 'optimiser');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no field or section "optimiser".*sections: .*optimizer/);
  });

  it('ends quietly when the reader of its output goes away (| head)', async () => {
    const child = spawn(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'config'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    // The reader is gone before the first line is written (as after `head -1` has its line).
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
    // Through a shell pipe, as a person types it.
    const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${join(PROJECT, 'bin/creditflow.mjs')}" config | head -1`], { encoding: 'utf8' });
    expect(piped.stderr).toBe('');
    expect(piped.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
