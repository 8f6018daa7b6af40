/**
 * A run's own copy of its data: `rows/train.jsonl`, `rows/heldout.jsonl`, `rows/demos.jsonl` (the
 * warm start's demonstrations) and `rows/manifest.json` with the sha256 of each, written once,
 * atomically and durably, before any compute. Every later step (a resumed run, a new worker, an
 * audit) reads this copy and checks its hashes, so what trained is exactly what the copy holds even
 * if the source file changes or is gone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from '../tasks/rows.js';
import { MANIFEST, readVerifiedManifest, writeAtomicDirFiles, type Manifest } from './atomic-dir.js';

export const rowsDir = (runDir: string) => join(runDir, 'rows');

/** The run's rows by split, and its demonstrations (prompt and completion only). */
export interface RunRows {
  train: Row[];
  heldOut: Row[];
  demos: { prompt: Row['prompt']; completion: string }[];
}

const FILES = { train: 'train.jsonl', heldOut: 'heldout.jsonl', demos: 'demos.jsonl' } as const;

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

/** Write the copy (replacing none: call only when {@link readRunRows} found none); returns its manifest. */
export function writeRunRows(runDir: string, rows: RunRows, meta: Record<string, unknown> = {}): Manifest {
  return writeAtomicDirFiles(rowsDir(runDir), {
    [FILES.train]: jsonl(rows.train), [FILES.heldOut]: jsonl(rows.heldOut), [FILES.demos]: jsonl(rows.demos),
  }, meta);
}

/** The copy, or null when there is none; throws when it exists but fails its hashes (never trained on unverified). */
export function readRunRows(runDir: string): { rows: RunRows; manifest: Manifest } | null {
  const dir = rowsDir(runDir);
  const manifest = readVerifiedManifest(dir);
  if (!manifest) {
    if (existsSync(join(dir, MANIFEST))) throw new Error(`${dir}: the run's copy of its data fails its sha256 check; restore it or start a new run`);
    return null;
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return { rows: { train: read(FILES.train), heldOut: read(FILES.heldOut), demos: read(FILES.demos) }, manifest };
}
