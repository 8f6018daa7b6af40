/**
 * `npm run native`: provision the native TensorFlow CPU backend (@tensorflow/tfjs-node) without
 * contacting Google's storage host. Opt-in; see docs/native-backend.md.
 *
 *   1. fetch the pinned `tensorflow-cpu` wheel from PyPI with `pip download` (cached in
 *      .creditflow/cache/native/, sha256-checked) and extract libtensorflow_cc/_framework + C headers;
 *   2. `npm install --no-save --ignore-scripts @tensorflow/tfjs-node@4.22.0` (package.json and
 *      package-lock.json are left byte-identical; tfjs-node's own downloading install script never runs);
 *   3. stage the libraries in tfjs-node's deps/ (libtensorflow.so -> libtensorflow_cc.so.2) and build
 *      its addon from source with node-gyp (node headers from the local Node install, no download);
 *   4. verify in a child process: load tfjs-node, run a matmul, compare with the cpu backend.
 *
 * On any failure the half-installed package is removed (so the wasm / pure-JS backends are exactly as
 * before), one line says why, and the exit code is 0 -- unless strict mode (`--strict` or
 * CREDITFLOW_NATIVE_STRICT=1), which exits 1. Details go to .creditflow/cache/native/install.log.
 *
 * Flags: --strict, --force (rebuild even if a verified install is present), --check (report only:
 * exit 0 when the native backend loads and verifies, 1 otherwise; changes nothing).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync, copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, readFileSync, readdirSync,
  realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  MARKER_FILE, TFJS_NODE_PKG, TFJS_NODE_VERSION, TF_VERSION, WHEEL, WHEEL_INCLUDE_PREFIXES, WHEEL_LIBS,
  napiBuildVersion, nativePaths, type NativePaths,
} from './config.js';
import { detectNative } from './detect.js';
import { NATIVE_SETUP_RESULT_FILE, type NativeSetupResult } from '../../engine/native-env.js';

export class NativeInstallError extends Error {}

export interface ProbeResult {
  ok: boolean;
  reason: string;
  tfVersion?: string;
  maxAbsDiff?: number;
}

export interface InstallResult {
  ok: boolean;
  /** The one line printed for humans. */
  line: string;
  alreadyInstalled: boolean;
  seconds: number;
}

const t0 = () => performance.now();

export function log(p: NativePaths, msg: string): void {
  mkdirSync(p.cacheDir, { recursive: true });
  appendFileSync(p.logFile, `[${new Date().toISOString()}] ${msg}\n`);
}

/** Run a command, log its output, throw NativeInstallError with `what` + the last stderr line on failure. */
export function sh(p: NativePaths, what: string, cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  log(p, `$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (out.trim()) log(p, out.trimEnd());
  if (r.error || r.status !== 0) {
    throw new NativeInstallError(`${what} failed${r.status != null ? ` (exit ${r.status})` : ''}: ${summarize(r.error?.message ?? out).slice(0, 300)}`);
  }
  return String(r.stdout ?? '');
}

/** The most telling line of a failed command's output: a compiler error, node-gyp's stack line, an ERROR line, else the last line. */
function summarize(out: string): string {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  const pick = (re: RegExp) => lines.find((l) => re.test(l));
  return (
    pick(/(fatal )?error:/) ?? pick(/^gyp ERR! stack Error/) ?? pick(/^ERROR:/) ?? pick(/^npm error (code|\d{3}|network)/) ??
    pick(/^make: \*\*\*/) ?? lines.filter((l) => !/^gyp (info|http)/.test(l)).pop() ?? ''
  ).replace(/^gyp ERR! stack /, '');
}

export function sha256(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('end', () => res(h.digest('hex'))).on('error', rej);
  });
}

export function python(): string {
  for (const c of ['python3', 'python']) if (spawnSync(c, ['--version']).status === 0) return c;
  throw new NativeInstallError('no python3 found (needed for pip download and node-gyp)');
}

/** Step 1: the wheel (cached, checksum-verified) and the few members we need, extracted once. */
async function ensureLibtensorflow(p: NativePaths): Promise<void> {
  const stamp = join(p.extractDir, '.complete');
  if (existsSync(stamp)) return;
  mkdirSync(p.cacheDir, { recursive: true });
  if (existsSync(p.wheelPath) && (await sha256(p.wheelPath)) !== WHEEL.sha256) {
    log(p, `cached wheel has a wrong checksum; re-downloading`);
    rmSync(p.wheelPath);
  }
  if (!existsSync(p.wheelPath)) {
    const py = python();
    sh(p, `pip download ${WHEEL.project}==${WHEEL.version}`, py, [
      '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--python-version', WHEEL.pythonVersion,
      '--platform', WHEEL.platform, '--dest', p.cacheDir, '--progress-bar', 'off', `${WHEEL.project}==${WHEEL.version}`,
    ]);
    if (!existsSync(p.wheelPath)) throw new NativeInstallError(`pip download did not produce ${WHEEL.file}`);
    const got = await sha256(p.wheelPath);
    if (got !== WHEEL.sha256) {
      rmSync(p.wheelPath);
      throw new NativeInstallError(`checksum mismatch for ${WHEEL.file}: got ${got}, pinned ${WHEEL.sha256}`);
    }
  }
  const tmp = `${p.extractDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const script = [
    'import sys, zipfile, os',
    'whl, dest, libs, prefixes = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(",")',
    'z = zipfile.ZipFile(whl)',
    'names = [n for n in z.namelist() if n in libs or (any(n.startswith(q) for q in prefixes) and not n.endswith("/"))]',
    'missing = [l for l in libs if l not in names]',
    'assert not missing, "wheel lacks " + ",".join(missing)',
    'for n in names: z.extract(n, dest)',
    'for l in libs: os.chmod(os.path.join(dest, l), 0o755)',
    'print(len(names))',
  ].join('\n');
  sh(p, 'extracting libtensorflow from the wheel', python(), ['-c', script, p.wheelPath, tmp, WHEEL_LIBS.join(','), WHEEL_INCLUDE_PREFIXES.join(',')]);
  rmSync(p.extractDir, { recursive: true, force: true });
  renameSync(tmp, p.extractDir);
  writeFileSync(stamp, `${WHEEL.file}\n`);
}

/** Step 2: the npm package, without its install script and without touching package.json / lockfile. */
function ensurePackage(p: NativePaths): boolean {
  const pj = join(p.pkgDir, 'package.json');
  if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).version === TFJS_NODE_VERSION) return false;
  const guarded = ['package.json', 'package-lock.json'].map((f) => join(p.root, f)).filter(existsSync);
  const before = guarded.map((f) => readFileSync(f));
  try {
    sh(p, `npm install ${TFJS_NODE_PKG}@${TFJS_NODE_VERSION}`, 'npm', [
      'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${TFJS_NODE_PKG}@${TFJS_NODE_VERSION}`,
    ], { cwd: p.root, env: { ...process.env, npm_config_loglevel: 'error' } });
  } finally {
    guarded.forEach((f, i) => {
      if (!readFileSync(f).equals(before[i])) {
        writeFileSync(f, before[i]);
        log(p, `restored ${f} (npm modified it)`);
      }
    });
  }
  if (!existsSync(pj)) throw new NativeInstallError(`npm install finished but ${pj} is missing`);
  return true;
}

/** Hard-link (same filesystem) or copy a file tree. */
export function linkTree(src: string, dst: string): void {
  if (statSync(src).isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const e of readdirSync(src)) linkTree(join(src, e), join(dst, e));
    return;
  }
  rmSync(dst, { force: true });
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

/** Step 3a: deps/{lib,include} laid out the way binding.gyp links (-ltensorflow -ltensorflow_framework, rpath ../../deps/lib). */
export function stageDeps(p: NativePaths): void {
  const deps = join(p.pkgDir, 'deps');
  rmSync(deps, { recursive: true, force: true });
  const lib = join(deps, 'lib');
  mkdirSync(lib, { recursive: true });
  for (const l of WHEEL_LIBS) linkTree(join(p.extractDir, l), join(lib, l.split('/').pop()!));
  // -ltensorflow finds libtensorflow.so; the recorded NEEDED entry is its SONAME, libtensorflow_cc.so.2.
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so.2'));
  symlinkSync('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
  linkTree(join(p.extractDir, 'tensorflow', 'include'), join(deps, 'include'));
}

/** node-gyp: npm's bundled copy (no network), else the one on PATH. */
function nodeGyp(): { cmd: string; args: string[] } {
  const candidates: string[] = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npmBin = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  if (npmBin) {
    try {
      candidates.push(join(dirname(realpathSync(npmBin)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch {}
  }
  for (const c of candidates) if (existsSync(c)) return { cmd: process.execPath, args: [c] };
  if (spawnSync('sh', ['-c', 'command -v node-gyp']).status === 0) return { cmd: 'node-gyp', args: [] };
  throw new NativeInstallError('node-gyp not found (neither bundled with npm nor on PATH)');
}

/** Local Node headers: <prefix>/include/node/common.gypi next to the running node; else npm_config_nodedir. */
function nodeDir(): string {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath)), '/usr', '/usr/local'].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(join(c, 'include', 'node', 'common.gypi')) && existsSync(join(c, 'include', 'node', 'node_api.h'))) return c;
  throw new NativeInstallError(
    `Node headers not found (looked for include/node/common.gypi under ${candidates.join(', ')}); install the nodejs dev headers or set npm_config_nodedir`,
  );
}

/** Step 3b: build lib/napi-v<N>/tfjs_binding.node from source. */
export function buildAddon(p: NativePaths, tfVersion: string = TF_VERSION): number {
  const pkg = JSON.parse(readFileSync(join(p.pkgDir, 'package.json'), 'utf8'));
  const napi = napiBuildVersion(pkg.binary?.napi_versions ?? []);
  if (napi === null) throw new NativeInstallError(`Node N-API ${process.versions.napi} is older than tfjs-node supports`);
  if (spawnSync('sh', ['-c', 'command -v make && command -v g++ || command -v c++']).status !== 0) {
    throw new NativeInstallError('no C++ toolchain (make and g++/c++ are needed to build the addon)');
  }
  const gyp = nodeGyp();
  const jobs = process.env.JOBS ?? '2';
  const nice = spawnSync('sh', ['-c', 'command -v nice']).status === 0;
  const args = [
    ...gyp.args, 'rebuild', `--nodedir=${nodeDir()}`, '--jobs', jobs, `--python=${python()}`,
    '--module_name=tfjs_binding', `--module_path=${join(p.pkgDir, 'lib', `napi-v${napi}`)}`, `--napi_build_version=${napi}`,
  ];
  sh(p, 'building the tfjs-node addon (node-gyp)', nice ? 'nice' : gyp.cmd, nice ? ['-n', '10', gyp.cmd, ...args] : args, { cwd: p.pkgDir });
  rmSync(join(p.pkgDir, 'build'), { recursive: true, force: true }); // intermediates only; the addon is in lib/
  checkSymbols(p, join(p.pkgDir, 'lib', `napi-v${napi}`, 'tfjs_binding.node'), tfVersion);
  return napi;
}

/**
 * Every TF_* / TFE_* symbol the addon imports must be exported by the staged libtensorflow; a gap would
 * otherwise only show as "undefined symbol" at load time. Needs binutils' nm; skipped (logged) without it.
 */
function checkSymbols(p: NativePaths, addon: string, tfVersion: string): void {
  if (spawnSync('sh', ['-c', 'command -v nm']).status !== 0) {
    log(p, 'nm not found; symbol check skipped (the load test still runs)');
    return;
  }
  const nm = (args: string[]) => spawnSync('nm', ['-D', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout ?? '';
  const wanted = nm(['-u', addon]).split('\n').map((l) => l.trim().split(/\s+/).pop()!).filter((s) => /^TFE?_/.test(s ?? ''));
  const lib = join(p.pkgDir, 'deps', 'lib');
  const have = new Set(
    nm(['--defined-only', join(lib, 'libtensorflow_cc.so.2'), join(lib, 'libtensorflow_framework.so.2')])
      .split('\n').map((l) => (l.trim().split(/\s+/)[2] ?? '').replace(/@.*/, '')),
  );
  const missing = wanted.map((s) => s.replace(/@.*/, '')).filter((s) => !have.has(s));
  log(p, `symbol check: addon imports ${wanted.length} TF_/TFE_ symbols; missing ${missing.length}`);
  if (missing.length) throw new NativeInstallError(`libtensorflow ${tfVersion} lacks ${missing.length} C API symbol(s) the addon needs: ${missing.slice(0, 5).join(', ')}`);
}

const PROBE = `
import * as tf from '@tensorflow/tfjs';
await import('@tensorflow/tfjs-node');
if (!(await tf.setBackend('tensorflow'))) throw new Error("backend 'tensorflow' did not initialise");
const tfVersion = tf.backend().binding?.TF_Version ?? 'unknown';
const n = 96, a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.7));
const run = async (be) => { await tf.setBackend(be); const t = tf.tidy(() => tf.softmax(tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])))); const v = t.dataSync(); t.dispose(); return v; };
const x = await run('tensorflow'), y = await run('cpu');
let d = 0; for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
console.log('PROBE ' + JSON.stringify({ tfVersion, maxAbsDiff: d }));
`;

/** Load tfjs-node in a child process (a crash there cannot take us down) and check it against cpu. */
export function probeNative(root?: string): ProbeResult {
  const p = nativePaths(root);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: p.root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PROBE '));
  if (r.status !== 0 || !line) {
    const err = `${r.stderr ?? ''}`.split('\n').find((l) => /Error|error:|cannot|Cannot/.test(l)) ?? `exit ${r.status ?? r.signal}`;
    return { ok: false, reason: `tfjs-node did not load: ${err.trim().slice(0, 300)}` };
  }
  const res = JSON.parse(line.slice(6)) as { tfVersion: string; maxAbsDiff: number };
  if (!(res.maxAbsDiff <= 1e-4)) return { ok: false, reason: `tfjs-node loaded but matmul differs from cpu by ${res.maxAbsDiff}`, ...res };
  return { ok: true, reason: `loaded libtensorflow ${res.tfVersion}; matmul+softmax match cpu (max |diff| ${res.maxAbsDiff.toExponential(1)})`, ...res };
}

export async function installNative(opts: { force?: boolean; root?: string } = {}): Promise<InstallResult> {
  const start = t0();
  const secs = () => Math.round((t0() - start) / 100) / 10;
  const p = nativePaths(opts.root);
  log(p, `--- npm run native (force=${!!opts.force}) node ${process.version} napi ${process.versions.napi}`);
  const det = detectNative(opts.root);
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, alreadyInstalled: false, seconds: secs(), line: det.reason };
  if (det.installed && !opts.force) {
    const pr = probeNative(opts.root);
    if (pr.ok) return { ok: true, alreadyInstalled: true, seconds: secs(), line: `already installed: ${det.reason}; ${pr.reason}` };
    log(p, `installed but probe failed (${pr.reason}); rebuilding`);
  }
  let installedNow = false;
  try {
    await ensureLibtensorflow(p);
    installedNow = ensurePackage(p);
    stageDeps(p);
    const napi = buildAddon(p);
    const pr = probeNative(opts.root);
    if (!pr.ok) throw new NativeInstallError(pr.reason);
    writeFileSync(join(p.pkgDir, MARKER_FILE), JSON.stringify({
      tfVersion: TF_VERSION, tfjsNodeVersion: TFJS_NODE_VERSION, napi, wheel: WHEEL.file, wheelSha256: WHEEL.sha256,
      libtensorflowReported: pr.tfVersion, node: process.version, builtAt: new Date().toISOString(),
    }, null, 2));
    return { ok: true, alreadyInstalled: false, seconds: secs(), line: `installed ${TFJS_NODE_PKG}@${TFJS_NODE_VERSION} on libtensorflow ${TF_VERSION} (PyPI tensorflow-cpu wheel) in ${secs()} s; ${pr.reason}` };
  } catch (e) {
    const msg = e instanceof NativeInstallError ? e.message : `unexpected error: ${(e as Error).stack ?? e}`;
    log(p, `FAILED: ${msg}`);
    // Leave no half-installed package behind: backend.ts then sees "not installed" and uses wasm/cpu as before.
    if (existsSync(p.pkgDir)) {
      rmSync(p.pkgDir, { recursive: true, force: true });
      log(p, `removed ${p.pkgDir}${installedNow ? '' : ' (was present but not working)'}`);
    }
    return { ok: false, alreadyInstalled: false, seconds: secs(), line: `${msg.split('\n')[0]}` };
  }
}

/**
 * Record a setup's outcome where engine/backend.ts reads it, so that a worker that falls back to wasm
 * says why (the install's one line) instead of only "not installed".
 */
export function recordSetup(ok: boolean, line: string, file: string = NATIVE_SETUP_RESULT_FILE): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ ok, line, at: new Date().toISOString() } satisfies NativeSetupResult, null, 2));
  } catch {} // a read-only checkout: the start-up line is then less specific, nothing else changes
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const strict = argv.includes('--strict') || process.env.CREDITFLOW_NATIVE_STRICT === '1';
  const p = nativePaths();
  if (argv.includes('--check')) {
    const det = detectNative();
    if (!det.installed) {
      console.log(`native: ${det.reason}`);
      process.exit(1);
    }
    const pr = probeNative();
    console.log(`native: ${pr.ok ? det.reason + '; ' + pr.reason : pr.reason}`);
    process.exit(pr.ok ? 0 : 1);
  }
  const r = await installNative({ force: argv.includes('--force') });
  recordSetup(r.ok, r.line);
  if (r.ok) {
    console.log(`native: ${r.line}`);
    return;
  }
  console.log(`native: not installed -- ${r.line} (wasm/cpu backends unchanged; log: ${p.logFile})`);
  process.exit(strict ? 1 : 0);
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(new URL(import.meta.url).pathname)) {
  await main();
}
