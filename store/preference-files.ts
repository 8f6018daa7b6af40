/**
 * A preference run's own files, beside the versions and checkpoints every run has:
 *
 *   data/train.jsonl, data/heldout.jsonl   the run's pairs (validated copy; the data cursor indexes train)
 *   reference/                             the frozen reference π_ref: the warm start's weights (atomic, hashed)
 *   critical/positive/, critical/negative/ cDPO's positive and negative models (atomic, hashed)
 *   scores/critical-tokens.json            cDPO's s_t per pair, computed once
 *   scores/token-rewards.json              T-REG's r̂_t per pair, computed once
 *
 * Versions cannot hold the reference: only the newest few are kept, and version 0 goes first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePreferenceJsonl, toJsonl, type PairLimits, type PreferencePair } from '../tasks/preference-pairs.js';
import type { Metrics } from '../common/metrics.js';
import { readVerifiedManifest, writeAtomicDirFiles, writeFileAtomic, type Manifest } from './atomic-dir.js';

export type CriticalModelRole = 'positive' | 'negative';
export type TokenScoreKind = 'critical-tokens' | 'token-rewards';

export const pairsFile = (runDir: string, split: 'train' | 'heldout') => join(runDir, 'data', `${split}.jsonl`);
export const referenceDir = (runDir: string) => join(runDir, 'reference');
export const criticalModelDir = (runDir: string, role: CriticalModelRole) => join(runDir, 'critical', role);
export const tokenScoresFile = (runDir: string, kind: TokenScoreKind) => join(runDir, 'scores', `${kind}.json`);

export function writePairs(runDir: string, split: 'train' | 'heldout', pairs: readonly PreferencePair[]): string {
  const path = pairsFile(runDir, split);
  writeFileAtomic(path, toJsonl(pairs));
  return path;
}

export const pairsDir = (runDir: string) => join(runDir, 'data');

/**
 * Both splits at once, atomically, with a manifest of their sha256 (submit writes them this way, so
 * the workers read the validated copy and never the path the config names).
 */
export function writePairsCopy(runDir: string, pairs: { train: readonly PreferencePair[]; heldOut: readonly PreferencePair[] }): Manifest {
  return writeAtomicDirFiles(pairsDir(runDir), { 'train.jsonl': toJsonl(pairs.train), 'heldout.jsonl': toJsonl(pairs.heldOut) }, { copiedAt: 'submit' });
}

/** The manifest of the pairs copy submit made, when there is one and it verifies. */
export const verifiedPairsCopy = (runDir: string): Manifest | null => readVerifiedManifest(pairsDir(runDir));

/** The run's copy of its pairs, checked again (a file edited by hand fails here, with its line). */
export function readPairs(runDir: string, split: 'train' | 'heldout', limits: PairLimits): PreferencePair[] {
  const path = pairsFile(runDir, split);
  return parsePreferenceJsonl(readFileSync(path, 'utf8'), path, limits);
}

/** Per-token scores of each pair's responses, aligned to the response tokens (EOS included). */
export interface TokenScores {
  /** What the file was computed with, and summary metrics. */
  metrics: Metrics;
  scores: Record<string, { chosen?: number[]; rejected?: number[] }>;
}

export function writeTokenScores(runDir: string, kind: TokenScoreKind, scores: TokenScores): void {
  writeFileAtomic(tokenScoresFile(runDir, kind), JSON.stringify(scores));
}

export function readTokenScores(runDir: string, kind: TokenScoreKind): TokenScores | null {
  const path = tokenScoresFile(runDir, kind);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as TokenScores) : null;
}
