/**
 * `npm install`'s postinstall: provision the native CPU backend once, by the same PyPI route as
 * `npm run native` (install.ts), so that a fresh `npm install && npm start` runs on native wherever
 * it can. Cached: the wheel and extracted libraries stay in .creditflow/cache/native, so after the
 * first install a re-run (npm prunes the --no-save package on every install) takes ~10 s, and ~1 s
 * when the package is still in place.
 *
 * Never fails the install: on any failure wasm stays the backend, one line says why, and the worker
 * repeats that line at start (engine/backend.ts reads it back). Skipped, with a line, when
 * CREDITFLOW_NATIVE=0, and when creditflow is installed as another project's dependency (npm runs
 * this in node_modules/creditflow; a nested npm install there would fight the outer one).
 */
import { realpathSync } from 'node:fs';
import { PROJECT_ROOT } from './config.js';
import { installNative, recordSetup } from './install.js';

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (process.env.CREDITFLOW_NATIVE === '0') {
    const line = 'skipped: CREDITFLOW_NATIVE=0 (run `npm run native` to add it later)';
    recordSetup(false, line);
    console.log(`native: ${line}; the WebAssembly backend will be used`);
    return;
  }
  const initCwd = process.env.INIT_CWD;
  if (initCwd && !samePath(initCwd, PROJECT_ROOT)) {
    console.log('native: skipped (creditflow is a dependency here; run `npm run native` inside it to add the native backend)');
    return;
  }
  console.log('native: provisioning the native CPU backend from PyPI (once; cached; set CREDITFLOW_NATIVE=0 to skip) ...');
  const r = await installNative();
  recordSetup(r.ok, r.line);
  console.log(r.ok ? `native: ${r.line}` : `native: not installed -- ${r.line}; the WebAssembly backend will be used (\`npm run native\` retries)`);
}

await main().catch((e) => {
  // Never fail `npm install` over an optional backend.
  console.log(`native: setup crashed (${(e as Error).message}); the WebAssembly backend will be used`);
});
