/**
 * `creditflow dev` starts the real dev server (SQLite in the state folder) and a worker; SIGINT (Ctrl-C)
 * stops both and leaves no process behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, portIsOpen } from '../../server/dev-server.js';
import { PROJECT, tempStateDir } from '../support/harness.js';

const serverPids = (port: number) =>
  spawnSync('pgrep', ['-f', `start-dev.*--port ${port} `], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

describe('creditflow dev', () => {
  it('serves until SIGINT, then stops the server and the worker', async () => {
    const home = tempStateDir('dev');
    const port = await freePort();
    const uiPort = await freePort();
    const child = spawn(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'dev', '--port', String(port), '--ui-port', String(uiPort), '--backend', 'cpu'], {
      env: { ...process.env, CREDITFLOW_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 600 && !output.includes('ready:'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('ready:');
    expect(output).toContain(`Web UI: http://localhost:${uiPort}`);
    expect(await portIsOpen(port)).toBe(true);
    expect(await portIsOpen(uiPort)).toBe(true);
    expect(existsSync(join(home, 'temporal.sqlite'))).toBe(true);
    expect(serverPids(port)).toHaveLength(1);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
    expect(await portIsOpen(port)).toBe(false);
    expect(serverPids(port)).toEqual([]);
  }, 120_000);
});
