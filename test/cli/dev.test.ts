/**
 * `creditflow dev` starts the real dev server (SQLite in the state folder) and a worker; SIGINT (Ctrl-C)
 * stops both and leaves no process behind. One dev server per state folder: a second is refused,
 * naming the first; links printed by other commands use the UI port in use. `creditflow demo` takes
 * the ports too.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
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

    // The same state folder cannot get a second dev server (on other ports, the SQLite file would be shared).
    const second = spawnSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'dev', '--port', String(await freePort()), '--ui-port', String(await freePort())], {
      env: { ...process.env, CREDITFLOW_HOME: home }, encoding: 'utf8', timeout: 60_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`the state folder ${home} is in use by another dev server: \`creditflow dev\` (pid ${child.pid}`);
    expect(second.stderr).toContain(`frontend 127.0.0.1:${port}, Web UI http://localhost:${uiPort}`);
    // Links printed by the other commands point at the UI in use.
    const submitted = await promisify(execFile)(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'submit', join(PROJECT, 'test/fixtures/tiny.yaml'),
      'run.iterations=1', '--address', `127.0.0.1:${port}`], { env: { ...process.env, CREDITFLOW_HOME: home }, encoding: 'utf8' });
    expect(submitted.stdout).toMatch(new RegExp(`Web UI: http://localhost:${uiPort}/namespaces/default/workflows/test-tiny-`));

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
    expect(await portIsOpen(port)).toBe(false);
    expect(serverPids(port)).toEqual([]);
    expect(existsSync(join(home, 'dev-server.lock')), 'the lock is given back').toBe(false);
  }, 180_000);

  it('runs the demo on the ports it is given and prints links to that UI', async () => {
    const home = tempStateDir('demo-ports');
    const port = await freePort();
    const uiPort = await freePort();
    const { stdout } = await promisify(execFile)(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'demo', '--config', join(PROJECT, 'test/fixtures/tiny.yaml'),
      '--port', String(port), '--ui-port', String(uiPort), '--backend', 'cpu'], { env: { ...process.env, CREDITFLOW_HOME: home }, encoding: 'utf8', timeout: 170_000 });
    expect(stdout).toContain(`Temporal dev server on 127.0.0.1:${port}`);
    expect(stdout).toMatch(new RegExp(`Web UI +: http://localhost:${uiPort}/namespaces/default/workflows/test-tiny-`));
    expect(stdout).toMatch(/iterations +: 4/);
    expect(await portIsOpen(port)).toBe(false);
    expect(existsSync(join(home, 'dev-server.lock'))).toBe(false);
  }, 180_000);
});
