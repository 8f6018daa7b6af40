import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT } from '../support/harness.js';

describe('a worker that fails to start', () => {
  it('reports the error and leaves no thread keeping its process alive', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CREDITFLOW_BACKEND; // it would replace the bad backend the script asks for
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT, 'test/support/failing-worker-start.ts')], { cwd: PROJECT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Before the fix the compute host's thread and the verifier threads outlived the error.
    const outcome = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000))]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(output).toMatch(/start failed: .*unknown backend 'no-such-backend'/);
    expect(outcome).toBe(0);
  }, 90_000);
});
