/**
 * Parity with transformers on the tiny committed checkpoints (test/fixtures/reference-models/, made
 * by `npm run reference-models`): a random-init Qwen2 (q/k/v biases, tied embeddings, GQA, ChatML
 * template, two generation EOS ids) and a Llama with llama3 rope scaling (head_dim ≠ hidden/heads,
 * BOS from the tokenizer's post-processor), plus the tiny Llama's weights under other rope configs
 * in both config.json spellings. Runs on wasm, and on native in CI's second pass.
 * npx vitest run test/models/reference-tiny.test.ts
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHfCheckpoint } from '../../models/llama/checkpoint.js';
import { HfTokenizer } from '../../models/llama/hf-tokenizer.js';
import { checkGreedy, checkTokenizer, FIXTURES, LOGPROB_TOLERANCE, maxLogProbError, readExpected } from './reference-checks.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);
const root = mkdtempSync(join(tmpdir(), 'creditflow-reference-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(['qwen2-tiny', 'llama3-rope-tiny'])('%s against transformers', (name) => {
  const e = readExpected(name);

  it('encodes strings and chats exactly as tokenizer() and apply_chat_template', async () => {
    const ck = await loadHfCheckpoint(join(FIXTURES, name));
    try {
      checkTokenizer(ck.tokenizer!, e);
    } finally {
      ck.model.dispose();
    }
  });

  it('gives the same log-probs (float32, |Δ| <= 1e-3) and greedy continuations', async () => {
    const ck = await loadHfCheckpoint(join(FIXTURES, name));
    try {
      expect(maxLogProbError(ck.model, e.sequences, ck.tokenizer!.pad)).toBeLessThan(LOGPROB_TOLERANCE);
      checkGreedy(ck.model, ck.tokenizer!, e);
    } finally {
      ck.model.dispose();
    }
  });
});

describe('rope configs of the tiny Llama, as transformers resolves them', () => {
  const variants = JSON.parse(readFileSync(join(FIXTURES, 'rope-variants.expected.json'), 'utf8')) as {
    ids: number[];
    variants: { name: string; config: Record<string, unknown>; resolved: Record<string, unknown>; logprobs: number[] }[];
  };
  const base = JSON.parse(readFileSync(join(FIXTURES, 'llama3-rope-tiny', 'config.json'), 'utf8')) as Record<string, unknown>;
  for (const key of ['rope_parameters', 'rope_scaling', 'rope_theta']) delete base[key];

  it.each(variants.variants.map((v) => [v.name, v] as const))('%s', async (name, v) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base, ...v.config }));
    copyFileSync(join(FIXTURES, 'llama3-rope-tiny', 'model.safetensors'), join(dir, 'model.safetensors'));
    const ck = await loadHfCheckpoint(dir);
    try {
      expect(ck.config.rope.type).toBe(v.resolved.rope_type);
      expect(ck.config.rope.theta).toBe(v.resolved.rope_theta);
      expect(ck.config.rope.factor).toBe(v.resolved.factor ?? undefined);
      expect(maxLogProbError(ck.model, [{ ids: variants.ids, logprobs: v.logprobs }], 0)).toBeLessThan(LOGPROB_TOLERANCE);
    } finally {
      ck.model.dispose();
    }
  });

  it('differ from each other by more than the tolerance (so each check can fail), dynamic aside', () => {
    const byName = new Map(variants.variants.map((v) => [v.name, v.logprobs]));
    const gap = (a: string, b: string) => Math.max(...byName.get(a)!.map((x, j) => Math.abs(x - byName.get(b)![j])));
    // Dynamic NTK only rescales beyond max_position_embeddings: up to it, it is the default rope (same theta).
    expect(gap('dynamic', 'default-old-keys')).toBeLessThan(1e-6);
    const names = [...byName.keys()].filter((n) => n !== 'dynamic');
    for (const a of names) for (const b of names) if (a < b) expect(gap(a, b), `${a} vs ${b}`).toBeGreaterThan(10 * LOGPROB_TOLERANCE);
  });
});

describe('tokenizer_config.json flags against tokenizer.json', () => {
  it('follows tokenizer.json, as transformers 5 does (it drops add_bos_token / add_eos_token)', () => {
    const dir = join(FIXTURES, 'tokenizer-add-bos-eos');
    const e = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer-add-bos-eos.expected.json'), 'utf8')) as { texts: { text: string; ids: number[] }[] };
    const json = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    const tok = new HfTokenizer({ json: json('tokenizer.json'), config: json('tokenizer_config.json') });
    expect(json('tokenizer_config.json').add_eos_token).toBe(true);
    for (const t of e.texts) expect(tok.encodePrompt(t.text)).toEqual(t.ids);
  });
});
