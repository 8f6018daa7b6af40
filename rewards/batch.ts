/**
 * `verifyBatch`: verify many cases off the main event loop with bounded concurrency.
 * Math/format/length run on the worker-thread pool (hard kill per case); code runs in sandboxed
 * child processes (hard kill per test); compositions combine their parts' verdicts here.
 * Results come back in input order, one per case; an unknown verifier is an `error` verdict.
 */
import { capText } from './reason-cap.js';
import { availableParallelism } from 'node:os';
import type { BatchOptions, Verdict, VerifierSpec, VerifyCase, VerifyResult } from './types.js';
import { resolveSpec, isSyncSpec, UnknownVerifierError } from './registry.js';
import { VerifierPool } from './pool/pool.js';
import { verifyCode } from './code/verify-code.js';
import { combine } from './shaping.js';
import { verifyInline } from './inline.js';

export const DEFAULT_MATH_TIMEOUT_MS = 2000;
export const DEFAULT_CODE_TIMEOUT_MS = 5000;

let shared: VerifierPool | null = null;

function defaultConcurrency(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/** The process-wide pool `verifyBatch` uses unless one is passed in; created on first use. */
export function sharedPool(size = defaultConcurrency()): VerifierPool {
  if (!shared) shared = new VerifierPool({ size });
  else shared.resize(size);
  return shared;
}

/** Terminate the shared pool's workers (tests, CLI exit). A later batch starts a new one. */
export async function shutdownVerifiers(): Promise<void> {
  const p = shared;
  shared = null;
  if (p) await p.close();
}

/** A counting semaphore: at most `n` holders at a time. */
function limiter(n: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (f) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try { return await f(); } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

interface Ctx {
  /** The pool, started on first use: a batch verified wholly inline never starts one. */
  pool: () => VerifierPool;
  codeSlot: <T>(f: () => Promise<T>) => Promise<T>;
  mathTimeoutMs: number;
  codeTimeoutMs: number;
}

async function evaluate(spec: VerifierSpec, c: VerifyCase, ctx: Ctx): Promise<Verdict> {
  if (isSyncSpec(spec)) return verifyInline(spec, c.completion, c.gold, c.truncated) ?? ctx.pool().run(spec, c.completion, c.gold, ctx.mathTimeoutMs, c.truncated);
  if (spec.kind === 'code') {
    const limits = stripUndefined({ timeoutMs: ctx.codeTimeoutMs, memoryMb: spec.memoryMb, maxOutputBytes: spec.maxOutputBytes, maxProcs: spec.maxProcs });
    return ctx.codeSlot(() => verifyCode(c.completion, c.tests, c.language, limits));
  }
  const parts = await Promise.all(spec.parts.map((p) => evaluate(p.spec, c, ctx)));
  return combine(spec, parts);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function verifyBatch(cases: VerifyCase[], opts: BatchOptions & { pool?: VerifierPool } = {}): Promise<VerifyResult[]> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? defaultConcurrency()));
  const ctx: Ctx = {
    pool: () => opts.pool ?? sharedPool(concurrency),
    codeSlot: limiter(concurrency),
    mathTimeoutMs: opts.timeoutMs ?? DEFAULT_MATH_TIMEOUT_MS,
    codeTimeoutMs: opts.timeoutMs ?? DEFAULT_CODE_TIMEOUT_MS,
  };
  return Promise.all(cases.map(async (c): Promise<VerifyResult> => {
    let spec: VerifierSpec;
    try {
      spec = resolveSpec(c.verifier, opts.specs);
    } catch (e) {
      if (e instanceof UnknownVerifierError) return { id: c.id, status: 'error', score: 0, reason: capText(e.message), ms: 0 };
      throw e;
    }
    try {
      const verdict = await evaluate(spec, c, ctx);
      return { id: c.id, ...verdict, reason: capText(verdict.reason) };
    } catch (e) {
      return { id: c.id, status: 'error', score: 0, reason: capText(`verifier failed: ${(e as Error).message}`), ms: 0 };
    }
  }));
}
