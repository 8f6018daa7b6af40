/**
 * Where creditflow keeps things on disk.
 *
 * - state folder (`CREDITFLOW_HOME`, default `./.creditflow`): runs, the dev server's SQLite file.
 * - cache folder (`CREDITFLOW_CACHE`, default `<project>/.creditflow/cache`): the Temporal CLI and
 *   other downloads, shared by every state folder so tests do not reinstall them.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export function stateDir(): string {
  return resolve(process.env.CREDITFLOW_HOME ?? join(process.cwd(), '.creditflow'));
}

export function cacheDir(): string {
  return resolve(process.env.CREDITFLOW_CACHE ?? join(PROJECT_ROOT, '.creditflow', 'cache'));
}

export function runsDir(home = stateDir()): string {
  return join(home, 'runs');
}

export function runDir(runId: string, home = stateDir()): string {
  if (!/^[A-Za-z0-9._-]+$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
  return join(runsDir(home), runId);
}
