'use strict';
/**
 * creditflow's judge for JavaScript assertion tests: a pass is this harness's word, never the exit
 * status. It runs under node's permission model (no child processes, workers, inspector or native
 * addons; files only in the sandbox folder) and `--frozen-intrinsics` (Object.prototype,
 * Array.prototype… cannot be patched), so the program shares the process but not the judge's state:
 *
 * - the per-run nonce and the test arrive on fd 3 before the program runs and live only in this
 *   module's closure, which strict-mode JavaScript gives no way to read;
 * - the program is loaded with `vm.runInThisContext` (its functions become globals) and the test
 *   runs as a strict function whose `require` and `assert` are parameters holding frozen copies
 *   taken before the program ran, so patching `assert.strictEqual` or `globalThis.require` does
 *   not reach it;
 * - only after the test returns does the judge write the nonce and the verdict on fd 3. An exit
 *   (`process.exit(0)`), a crash or a fake line written without the nonce leaves no verdict, and
 *   the parent scores the test as failed.
 *
 * Protocol on fd 3: the parent writes one JSON object {"nonce", "test"} and closes its side; the
 * judge answers one JSON line {"nonce", "pass", "why"}.
 */
const fs = require('node:fs');
const vm = require('node:vm');
const assert = require('node:assert');

const VERDICT_FD = 3;
const writeSync = fs.writeSync;
const readSync = fs.readSync;
const stringify = JSON.stringify;

function deepFreeze(o) {
  Object.freeze(o); // first, so that a cycle (assert.strict.strict) ends here
  for (const v of Object.values(o)) if ((typeof v === 'function' || typeof v === 'object') && v !== null && !Object.isFrozen(v)) deepFreeze(v);
  return o;
}

function readRequest() {
  const chunks = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    const n = readSync(VERDICT_FD, buf, 0, buf.length, null);
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const request = readRequest();
const nonce = String(request.nonce);
const test = String(request.test);
const frozenAssert = deepFreeze(assert);
const frozenUtil = deepFreeze({ ...require('node:util') });
const MODULES = { assert: frozenAssert, 'node:assert': frozenAssert, 'assert/strict': frozenAssert.strict, 'node:assert/strict': frozenAssert.strict, util: frozenUtil, 'node:util': frozenUtil };
/** What the test may require: the copies above, nothing the program could have replaced. */
function testRequire(name) {
  if (Object.prototype.hasOwnProperty.call(MODULES, name)) return MODULES[name];
  throw new Error(`a test may require only ${Object.keys(MODULES).join(', ')}`);
}

let answered = false;
function verdict(pass, why) {
  if (answered) return;
  answered = true;
  writeSync(VERDICT_FD, `${stringify({ nonce, pass, why: String(why).slice(0, 300) })}\n`);
}

function describe(e) {
  try { return e instanceof Error ? `${e.name}: ${e.message}` : `threw ${String(e)}`; } catch { return 'threw an unprintable value'; }
}

/** `add(2, 3) === 5` as one expression is asserted: it must be true (undefined: a call used as a statement). */
function compileTest(source) {
  try {
    return { expression: true, fn: vm.runInThisContext(`(function (require, assert) { 'use strict'; return (${source}\n); })`, { filename: 'test.js' }) };
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return { expression: false, fn: vm.runInThisContext(`(function (require, assert) { 'use strict'; ${source}\n})`, { filename: 'test.js' }) };
  }
}

try {
  globalThis.require = require; // the program may require what the permission model allows
  vm.runInThisContext(fs.readFileSync('main.js', 'utf8'), { filename: 'main.js' });
} catch (e) {
  verdict(false, `the program threw while loading: ${describe(e)}`);
}
if (!answered) {
  try {
    const t = compileTest(test);
    const value = t.fn(testRequire, frozenAssert);
    if (!t.expression || value === true || value === undefined) verdict(true, 'passed');
    else verdict(false, `test expression evaluated to ${typeof value === 'object' ? typeof value : String(value).slice(0, 80)}, not true`);
  } catch (e) {
    verdict(false, e instanceof assert.AssertionError ? `assertion failed: ${e.message.split('\n')[0]}` : describe(e));
  }
}
