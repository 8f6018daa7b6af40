/**
 * An exported fine-tuned model reads back in transformers as the model that was trained.
 * test/fixtures/reference-models/llama3-rope-tiny-finetuned/ was written by `creditflow export`'s own
 * function (engine/export-checkpoint.ts writeExportFolder) after a few gradient steps on the tiny
 * Llama-3-rope model, whose source config.json also carried a stale top-level rope_theta
 * (scripts/reference-models/export-sample.ts); transformers reloaded it and its log-probs are the
 * .expected.json beside it (`npm run reference-models` also checks them against ours before export:
 * max |Δ| 1.5e-5). Here: our reload of that folder against transformers' numbers, and today's export
 * code writing the same folder again byte for byte, so the fixture stays what the code writes.
 * npx vitest run test/models/reference-export.test.ts
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExportFolder } from '../../engine/export-checkpoint.js';
import { loadCheckpoint } from '../../models/load-checkpoint.js';
import { useWasm } from './helpers.js';
import { FIXTURES, LOGPROB_TOLERANCE, maxLogProbError, readExpected } from './reference-checks.js';

beforeAll(useWasm);
const root = mkdtempSync(join(tmpdir(), 'creditflow-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const exported = join(FIXTURES, 'llama3-rope-tiny-finetuned');
const theirs = JSON.parse(readFileSync(join(FIXTURES, 'llama3-rope-tiny-finetuned.expected.json'), 'utf8')) as { sequences: { ids: number[]; logprobs: number[] }[] };

describe('export of a fine-tuned model, read back', () => {
  it('gives transformers’ log-probs on its reload of the exported folder (|Δ| <= 1e-3)', async () => {
    const ck = await loadCheckpoint(exported);
    try {
      expect(maxLogProbError(ck.model, theirs.sequences, ck.tokenizer!.pad)).toBeLessThan(LOGPROB_TOLERANCE);
    } finally {
      ck.model.dispose();
    }
  });

  it('is a fine-tuned model: its log-probs are far from the base model’s', () => {
    const base = readExpected('llama3-rope-tiny').sequences;
    const gap = Math.max(...theirs.sequences.flatMap((s, i) => s.logprobs.map((lp, j) => Math.abs(lp - base[i].logprobs[j]))));
    expect(gap).toBeGreaterThan(100 * LOGPROB_TOLERANCE);
  });

  it('has one spelling of the rope settings (the stale top-level rope_theta is gone)', () => {
    const config = JSON.parse(readFileSync(join(exported, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.rope_parameters).toEqual({ rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 });
    expect('rope_theta' in config || 'rope_scaling' in config).toBe(false);
  });

  it('is what today’s export code writes: exporting the reload again gives the same files byte for byte', async () => {
    const ck = await loadCheckpoint(exported);
    const again = join(root, 'again');
    try {
      await writeExportFolder(again, ck, 'F32');
    } finally {
      ck.model.dispose();
    }
    const files = readdirSync(exported).sort();
    expect(readdirSync(again).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(again, f)).equals(readFileSync(join(exported, f))), f).toBe(true);
  });
});
