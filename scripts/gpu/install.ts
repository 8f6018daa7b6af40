/**
 * `npm run gpu`: provision the CUDA backend (@tensorflow/tfjs-node-gpu) from registry packages only.
 * Opt-in; see docs/gpu-backend.md.
 *
 *   0. preflight (scripts/gpu/preflight.ts): driver, GPU, compute capability -- before any download,
 *      so a machine without a usable GPU gets its one-line reason in well under a second;
 *   1. the pinned `tensorflow` 2.18.1 wheel and its CUDA 12 wheels from PyPI (`pip download
 *      --require-hashes`, cached in .creditflow/cache/gpu/wheels/); check that the pins are the
 *      wheel's own `and-cuda` requirements; extract libtensorflow, the C headers and every CUDA library;
 *   2. `npm install` tfjs-node-gpu into a staging folder, with --ignore-scripts (its downloading install
 *      script never runs), then copy it into node_modules: a --no-save install into the project would
 *      remove a tfjs-node that `npm run native` put there (npm prunes packages missing from the lockfile);
 *   3. stage deps/lib and deps/nvidia as site-packages lays them out (layout.ts), check that the loader
 *      finds every CUDA library TensorFlow opens, build the addon (node-gyp, as scripts/native does);
 *   4. verify in a child process (probe.ts): the device TensorFlow created, a matmul and a softmax
 *      gradient equal to the cpu backend to 1e-4.
 *
 * On failure after the preflight, node_modules/@tensorflow/tfjs-node-gpu is removed again and nothing
 * else is touched (tfjs-node, wasm and cpu stay as they were). One line says why; exit 0 unless
 * --strict (or CREDITFLOW_GPU_STRICT=1), as for `npm run native`.
 *
 * Flags: --check (report only, exit 1 unless it loads on a GPU), --force, --strict,
 * --download-only (fetch the wheels and the npm package into the cache, build nothing: for copying
 * .creditflow/cache/gpu to a GPU machine that cannot reach a registry), --build-without-gpu (skip the
 * preflight and accept a load that finds no GPU: checks the provisioning path on any Linux machine).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGpuFacts } from '../../engine/gpu-devices.js';
import { TFJS_NODE_VERSION } from '../native/config.js';
import { NativeInstallError as InstallError, buildAddon, linkTree, log, python, sh, sha256, stageDeps } from '../native/install.js';
import { CUDA_WHEELS, GPU_MARKER_FILE, GPU_TF_VERSION, TFJS_NODE_GPU_PKG, TFJS_NODE_GPU_VERSION, TF_GPU_WHEEL, gpuPaths, type GpuPaths } from './config.js';
import { detectGpuInstall } from './detect.js';
import { LOADER_LINKS, isCudaLibMember, isTfMember, parseRunpath, unreachable } from './layout.js';
import { assessGpu } from './preflight.js';
import { probeGpu } from './probe.js';
import { ALL_WHEELS, pinDrift, requirementsText } from './wheels.js';

export interface GpuInstallResult {
  ok: boolean;
  line: string;
  seconds: number;
}

/** Step 1a: every pinned wheel in the cache, each checked against its sha256 (pip checks the ones it fetches). */
async function ensureWheels(p: GpuPaths): Promise<void> {
  mkdirSync(p.wheelDir, { recursive: true });
  const missing = [];
  for (const w of ALL_WHEELS) {
    const file = join(p.wheelDir, w.file);
    if (existsSync(file) && (await sha256(file)) === w.sha256) continue;
    rmSync(file, { force: true });
    missing.push(w);
  }
  if (!missing.length) return;
  const reqs = join(p.cacheDir, 'requirements.txt');
  writeFileSync(reqs, requirementsText(missing));
  sh(p, `pip download of ${missing.length} wheel(s) (${missing.map((w) => `${w.project}==${w.version}`).join(', ')})`, python(), [
    '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--python-version', '3.11', '--platform', 'manylinux2014_x86_64',
    '--platform', 'manylinux_2_17_x86_64', '--require-hashes', '-r', reqs, '--dest', p.wheelDir, '--progress-bar', 'off',
  ]);
  const absent = missing.filter((w) => !existsSync(join(p.wheelDir, w.file)));
  if (absent.length) throw new InstallError(`pip download did not produce ${absent.map((w) => w.file).join(', ')}`);
}

/** Python's zipfile, driven from here: `list OUT wheels...` writes members (+ METADATA) to OUT, `extract DEST` takes a plan on stdin. */
const ZIP_TOOL = [
  'import json, os, sys, zipfile',
  'if sys.argv[1] == "list":',
  '    out = {}',
  '    for w in sys.argv[3:]:',
  '        z = zipfile.ZipFile(w)',
  '        meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]',
  '        out[w] = {"members": z.namelist(), "metadata": z.read(meta[0]).decode() if meta else ""}',
  '    json.dump(out, open(sys.argv[2], "w"))',
  'else:',
  '    dest, plan = sys.argv[2], json.load(sys.stdin)',
  '    for w, members in plan.items():',
  '        z = zipfile.ZipFile(w)',
  '        for n in members:',
  '            z.extract(n, dest)',
  '            if ".so" in n: os.chmod(os.path.join(dest, n), 0o755)',
  '    print(sum(len(m) for m in plan.values()))',
].join('\n');

const extracted = (p: GpuPaths) => existsSync(join(p.extractDir, '.complete'));

/** Step 1b: tensorflow/ (libraries + headers) and nvidia/<dir>/lib/ unpacked once into extractDir. */
function extract(p: GpuPaths): void {
  const stamp = join(p.extractDir, '.complete');
  if (existsSync(stamp)) return;
  const wheels = ALL_WHEELS.map((w) => join(p.wheelDir, w.file));
  const listFile = join(p.cacheDir, 'wheel-members.json');
  sh(p, 'reading the wheels', python(), ['-c', ZIP_TOOL, 'list', listFile, ...wheels]);
  const listing = JSON.parse(readFileSync(listFile, 'utf8')) as Record<string, { members: string[]; metadata: string }>;
  rmSync(listFile);
  const drift = pinDrift(listing[p.wheelPath].metadata);
  if (drift.length) throw new InstallError(`pinned CUDA wheels disagree with tensorflow ${GPU_TF_VERSION}'s and-cuda extra: ${drift.join('; ')}`);
  const plan: Record<string, string[]> = {};
  for (const w of wheels) {
    plan[w] = listing[w].members.filter(w === p.wheelPath ? isTfMember : isCudaLibMember);
    if (!plan[w].length) throw new InstallError(`${w} holds none of the files expected from it`);
  }
  const tmp = `${p.extractDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  sh(p, 'extracting the wheels', python(), ['-c', ZIP_TOOL, 'extract', tmp], { input: JSON.stringify(plan) });
  rmSync(p.extractDir, { recursive: true, force: true });
  renameSync(tmp, p.extractDir);
  writeFileSync(stamp, `${ALL_WHEELS.map((w) => w.file).join('\n')}\n`);
}

const versionAt = (dir: string): string | null =>
  existsSync(join(dir, 'package.json')) ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version : null;

/** Step 2a: the npm package and its dependencies, installed into a staging folder outside the project (kept as a cache). */
function stagePackage(p: GpuPaths): string {
  const stagedPkg = join(p.npmStage, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
  if (versionAt(stagedPkg) === TFJS_NODE_GPU_VERSION) return stagedPkg;
  rmSync(p.npmStage, { recursive: true, force: true });
  mkdirSync(p.npmStage, { recursive: true });
  writeFileSync(join(p.npmStage, 'package.json'), JSON.stringify({ name: 'creditflow-gpu-stage', private: true }));
  sh(p, `npm install ${TFJS_NODE_GPU_PKG}@${TFJS_NODE_GPU_VERSION}`, 'npm', [
    'install', '--prefix', p.npmStage, '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', `${TFJS_NODE_GPU_PKG}@${TFJS_NODE_GPU_VERSION}`,
  ], { cwd: p.npmStage, env: { ...process.env, npm_config_loglevel: 'error' } });
  if (versionAt(stagedPkg) !== TFJS_NODE_GPU_VERSION) throw new InstallError(`npm install finished but ${stagedPkg} is missing`);
  return stagedPkg;
}

/** Step 2b: copy the staged package into node_modules, its own dependencies below it. */
function copyPackage(p: GpuPaths, stagedPkg: string): void {
  if (versionAt(join(p.root, 'node_modules', '@tensorflow', 'tfjs')) !== TFJS_NODE_VERSION) {
    throw new InstallError(`the project's @tensorflow/tfjs is not ${TFJS_NODE_VERSION} (run npm install first)`);
  }
  rmSync(p.pkgDir, { recursive: true, force: true });
  cpSync(stagedPkg, p.pkgDir, { recursive: true });
  // Every @tensorflow package resolves to the project's copy instead: one tfjs engine for all backends.
  const staged = join(p.npmStage, 'node_modules');
  for (const entry of readdirSync(staged)) {
    if (entry === '@tensorflow' || entry.startsWith('.')) continue;
    cpSync(join(staged, entry), join(p.pkgDir, 'node_modules', entry), { recursive: true });
  }
}

/** Step 3a: deps/ as site-packages lays the libraries out (layout.ts), on top of scripts/native's deps/lib + include. */
function stageCuda(p: GpuPaths): void {
  stageDeps(p);
  const deps = join(p.pkgDir, 'deps');
  linkTree(join(p.extractDir, 'nvidia'), join(deps, 'nvidia'));
  for (const [link, target] of LOADER_LINKS) symlinkSync(target, join(deps, link));
}

/**
 * Step 3b: the loader must find each library TensorFlow dlopens from libtensorflow_cc's RUNPATH (layout.ts),
 * and every NEEDED entry of the staged libraries (ldd). Uses binutils' readelf; skipped (logged) without it.
 */
function checkLoader(p: GpuPaths): void {
  const lib = join(p.pkgDir, 'deps', 'lib');
  const have = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  if (!have('readelf') || !have('ldd')) {
    log(p, 'readelf or ldd not found; loader check skipped (the load test still runs)');
    return;
  }
  const runpath = parseRunpath(spawnSync('readelf', ['-d', join(lib, 'libtensorflow_cc.so.2')], { encoding: 'utf8' }).stdout ?? '');
  const lost = unreachable(runpath, lib, existsSync);
  if (lost.length) throw new InstallError(`the loader would not find ${lost.join(', ')} from libtensorflow_cc's RUNPATH (${runpath})`);
  const objects = [join(lib, 'libtensorflow_cc.so.2'), ...CUDA_WHEELS.flatMap((w) => {
    const dir = join(p.pkgDir, 'deps', 'nvidia', w.dir, 'lib');
    return readdirSync(dir).filter((f) => /^lib.*\.so/.test(f)).map((f) => join(dir, f));
  })];
  const unresolved: string[] = [];
  for (const o of objects) {
    const out = spawnSync('ldd', [o], { encoding: 'utf8' }).stdout ?? '';
    for (const l of out.split('\n')) if (/not found/.test(l)) unresolved.push(`${o.split('/').pop()}: ${l.trim()}`);
  }
  log(p, `loader check: ${runpath.split(':').length} RUNPATH entries; all dlopened CUDA libraries found; ldd on ${objects.length} libraries: ${unresolved.length} unresolved`);
  if (unresolved.length) throw new InstallError(`unresolved shared-library dependencies: ${unresolved.slice(0, 3).join('; ')}`);
}

export async function installGpu(opts: { force?: boolean; root?: string; downloadOnly?: boolean; withoutGpu?: boolean } = {}): Promise<GpuInstallResult> {
  const start = performance.now();
  const secs = () => Math.round((performance.now() - start) / 100) / 10;
  const p = gpuPaths(opts.root);
  const fail = (line: string): GpuInstallResult => ({ ok: false, line, seconds: secs() });
  const facts = readGpuFacts();
  const verdict = assessGpu(facts);
  // No driver / no GPU / wrong compute capability: say so before touching the disk or the network.
  if (!verdict.ok && !opts.withoutGpu && !opts.downloadOnly) return fail(verdict.reason);
  log(p, `--- npm run gpu (force=${!!opts.force}, downloadOnly=${!!opts.downloadOnly}, withoutGpu=${!!opts.withoutGpu}) node ${process.version}; preflight: ${verdict.reason}`);
  if (facts.platform !== 'linux' || facts.arch !== 'x64') return fail(verdict.reason);
  const det = detectGpuInstall(opts.root);
  if (det.installed && !opts.force && !opts.downloadOnly) {
    const pr = probeGpu({ root: opts.root, requireGpu: !opts.withoutGpu });
    if (pr.ok) return { ok: true, seconds: secs(), line: `already installed: ${det.reason}; ${pr.reason}` };
    log(p, `installed but probe failed (${pr.reason}); rebuilding`);
  }
  try {
    // Once extracted, the wheels are not read again (hashing 2.4 GB costs ~25 s on two cores).
    if (opts.downloadOnly || !extracted(p)) await ensureWheels(p);
    if (opts.downloadOnly) {
      stagePackage(p);
      return { ok: true, seconds: secs(), line: `downloaded ${ALL_WHEELS.length} wheels and staged ${TFJS_NODE_GPU_PKG} in ${p.cacheDir} (${secs()} s); copy that folder to the GPU machine and run npm run gpu there` };
    }
    extract(p);
    copyPackage(p, stagePackage(p));
    stageCuda(p);
    checkLoader(p);
    const napi = buildAddon(p, GPU_TF_VERSION);
    const pr = probeGpu({ root: opts.root, requireGpu: !opts.withoutGpu });
    if (!pr.ok) throw new InstallError(pr.reason);
    writeFileSync(join(p.pkgDir, GPU_MARKER_FILE), JSON.stringify({
      tfVersion: GPU_TF_VERSION, tfjsNodeGpuVersion: TFJS_NODE_GPU_VERSION, napi, device: pr.device ?? null, driver: verdict.driver ?? null,
      wheels: ALL_WHEELS.map((w) => ({ file: w.file, sha256: w.sha256 })), matmulGflops: pr.matmulGflops, node: process.version, builtAt: new Date().toISOString(),
    }, null, 2));
    return { ok: true, seconds: secs(), line: `installed ${TFJS_NODE_GPU_PKG}@${TFJS_NODE_GPU_VERSION} on libtensorflow ${GPU_TF_VERSION} (PyPI tensorflow + ${CUDA_WHEELS.length} CUDA wheels) in ${secs()} s; ${pr.reason}` };
  } catch (e) {
    const msg = e instanceof InstallError ? e.message : `unexpected error: ${(e as Error).stack ?? e}`;
    log(p, `FAILED: ${msg}`);
    if (existsSync(p.pkgDir) && !opts.downloadOnly) {
      rmSync(p.pkgDir, { recursive: true, force: true });
      log(p, `removed ${p.pkgDir}`);
    }
    return fail(msg.split('\n')[0]);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const known = ['--check', '--force', '--strict', '--download-only', '--build-without-gpu'];
  const unknown = argv.filter((a) => !known.includes(a));
  if (unknown.length) {
    console.log(`gpu: unknown option ${unknown.join(' ')} (options: ${known.join(' ')})`);
    process.exit(2);
  }
  const strict = argv.includes('--strict') || process.env.CREDITFLOW_GPU_STRICT === '1';
  const p = gpuPaths();
  if (argv.includes('--check')) {
    const verdict = assessGpu(readGpuFacts());
    if (!verdict.ok) {
      console.log(`gpu: ${verdict.reason}`);
      process.exit(1);
    }
    const det = detectGpuInstall();
    if (!det.installed) {
      console.log(`gpu: ${det.reason}`);
      process.exit(1);
    }
    const pr = probeGpu({ requireGpu: true });
    console.log(`gpu: ${pr.ok ? `${det.reason}; ${pr.reason}` : pr.reason}`);
    process.exit(pr.ok ? 0 : 1);
  }
  const r = await installGpu({ force: argv.includes('--force'), downloadOnly: argv.includes('--download-only'), withoutGpu: argv.includes('--build-without-gpu') });
  if (r.ok) {
    console.log(`gpu: ${r.line}`);
    return;
  }
  const log = existsSync(p.logFile) ? `; log: ${p.logFile}` : '';
  console.log(`gpu: not installed -- ${r.line} (native/wasm/cpu backends unchanged${log})`);
  process.exit(strict ? 1 : 0);
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(new URL(import.meta.url).pathname)) {
  await main();
}
