/**
 * Hostile configs are refused by `creditflow submit` before it connects anywhere, naming the field
 * (and its YAML line) and the reason. Each case is one class from the hostile corpus of issue 24:
 * sizes and counts past their bounds, timeouts of 1e11 minutes, models no worker can hold, names
 * Temporal would refuse, and YAML that expands without end. The address is a closed port, so a
 * config that got past validation would fail with a connection error instead of the expected one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execute } from '../../cli/commands/submit.js';
import { execute as executeSweep } from '../../cli/commands/sweep.js';
import { parseCommandLine } from '../../cli/program.js';
import { tempStateDir } from '../support/harness.js';

const BASE = `experiment: hostile
data:
  source: arithmetic
  maxDigits: 1
  trainSize: 40
  evalSize: 16
model:
  dModel: 16
  nLayers: 1
  nHeads: 2
  dFf: 32
  maxSeqLen: 16
warmStart:
  steps: 4
  batchSize: 8
rollout:
  promptsPerIteration: 4
  groupSize: 4
  maxNewTokens: 4
run:
  iterations: 4
`;

const dir = tempStateDir('hostile-configs');

/** The error `creditflow submit <yaml> [args]` ends with (it must not start anything). */
async function refusal(yaml: string, args: string[] = []): Promise<string> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const parsed = parseCommandLine(['submit', file, ...args, '--address', '127.0.0.1:1'])!;
  try {
    await execute(parsed.args, parsed.options);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

/** BASE with `key.path=value` overrides given as CLI arguments (so each case names one field). */
const withArgs = (...args: string[]) => refusal(BASE, args);

describe('hostile configs are refused at submit, naming the field', () => {
  it.each([
    ['run.iterations=1e12', /run\.iterations \(override run\.iterations=1e12\): must be at most 1,000,000/],
    ['warmStart.steps=1e9', /warmStart\.steps \(override warmStart\.steps=1e9\): must be at most 10,000,000/],
    ['timeouts.activityMinutes=1e11', /timeouts\.activityMinutes .*must be at most 10,080 \(one compute activity; a week/],
    ['timeouts.heartbeatSeconds=1e11', /timeouts\.heartbeatSeconds .*must be at most 3,600/],
    ['rollout.promptsPerIteration=1e8', /rollout\.promptsPerIteration .*must be at most 65,536/],
    ['rollout.groupSize=1e5', /rollout\.groupSize .*must be at most 1,024/],
    ['data.trainSize=2e9', /data\.trainSize .*must be at most 1,000,000/],
    ['model.maxSeqLen=1e9', /model\.maxSeqLen .*must be at most 131,072/],
    ['run.keepCheckpoints=1e9', /run\.keepCheckpoints .*must be at most 1,000/],
    ['seed=1e12', /seed .*must be at most 4,294,967,295 \(seeds are 32-bit/],
    ['optimizer.epochsPerIteration=1e6', /optimizer\.epochsPerIteration .*must be at most 1,000/],
    ['evaluation.samples=1e7', /evaluation\.samples .*must be at most 1,024/],
  ])('%s', async (override, message) => {
    expect(await withArgs(override)).toMatch(message);
  });

  it('refuses promptsPerIteration × groupSize past a rollout file\'s bound, though each is within its own', async () => {
    expect(await withArgs('rollout.promptsPerIteration=65536', 'rollout.groupSize=1024'))
      .toMatch(/rollout\.promptsPerIteration .*× rollout\.groupSize \(1024\) = 67108864 completions per iteration must be at most 1,048,576/);
  });

  it('refuses a model no worker can hold, naming the fields that drive the estimate', async () => {
    const message = await withArgs('model.dModel=65536', 'model.nLayers=1000', 'model.nHeads=2');
    expect(message).toMatch(/the run needs about [\d,]+ MB, over the worker memory budget of 2,048 MB: weights [\d,]+ MB \(model\.dModel, model\.nLayers, model\.dFf\), AdamW moments [\d,]+ MB/);
    expect(message).toMatch(/Use a smaller model \(model\.dModel, model\.nLayers, model\.dFf\): its weights, AdamW moments alone need [\d,]+ MB; .*--memory-budget-mb/);
  });

  it('refuses a sequence length whose attention maps overflow a typed array, naming model.maxSeqLen', async () => {
    // Within maxSeqLen's own bound, but 16 sequences × 2 heads × 131072² values is one tensor past 2^31.
    const message = await withArgs('model.maxSeqLen=131072');
    expect(message).toMatch(/rollout\.promptsPerIteration × rollout\.groupSize, model\.maxSeqLen: one layer's attention maps of one update would be one tensor of 5\.50e\+11 values, more than the 2,147,483,647/);
  });

  it('checks against the budget submit is given: the same run passes a larger one', async () => {
    const args = ['rollout.promptsPerIteration=256', 'rollout.groupSize=8', 'model.maxSeqLen=256', 'model.dModel=256', 'model.dFf=1024'];
    expect(await withArgs(...args)).toMatch(/update [\d,]+ MB \(gradients [\d,]+ MB \+ activations [\d,]+ MB for rollout\.promptsPerIteration × rollout\.groupSize = 2048 rows × model\.maxSeqLen 256 tokens\)/);
    // With a budget of 1 TiB it is refused only later, when it tries to connect to the closed port.
    expect(await withArgs(...args, '--memory-budget-mb', String(2 ** 20))).toMatch(/127\.0\.0\.1:1|connect|ECONNREFUSED|Failed to connect/i);
  });

  it('refuses a 100,000-character experiment name before Temporal sees it', async () => {
    const message = await refusal(BASE.replace('experiment: hostile', `experiment: ${'x'.repeat(100_000)}`));
    expect(message).toMatch(/experiment \(line 1\): must be at most 200 characters/);
    expect(message.length).toBeLessThan(2_000);
  });

  it('refuses a --id longer than a run folder\'s name can be', async () => {
    expect(await withArgs('--id', 'r'.repeat(300))).toMatch(/--id: the run id is 300 bytes, over 255/);
  });

  it('refuses a "billion laughs" YAML with the line of the alias that explodes', async () => {
    const levels = ['a: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let k = 1; k <= 9; k++) levels.push(`b${k}: &l${k} [${Array.from({ length: 10 }, () => `*l${k - 1}`).join(',')}]`);
    const message = await refusal(`${BASE}${levels.join('\n')}\n`);
    expect(message).toMatch(/YAML: the config expands to [\d,]+ values, must be at most 100,000 .*the alias \*l8 \(line 31\) alone expands to 1,111,111,111 values/);
  });

  it('refuses a config file that is a device, without reading it', async () => {
    const parsed = parseCommandLine(['submit', '/dev/zero', '--address', '127.0.0.1:1'])!;
    await expect(execute(parsed.args, parsed.options)).rejects.toThrow(/\/dev\/zero: is a character device, not a regular file/);
  });

  it('estimates a model.checkpoint from its config.json and refuses one no worker holds', async () => {
    const checkpoint = join(dir, 'seven-b');
    mkdirSync(checkpoint);
    writeFileSync(join(checkpoint, 'config.json'), JSON.stringify({
      model_type: 'llama', vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, max_position_embeddings: 4096,
    }));
    writeFileSync(join(checkpoint, 'tokenizer.json'), '{}');
    const yaml = BASE.replace(/model:\n(  .*\n)+/, `model:\n  checkpoint: ${checkpoint}\n  maxSeqLen: 16\n`);
    expect(await refusal(yaml)).toMatch(/weights 25,[\d]{3} MB \(model\.checkpoint: 32 layers × hidden size 4096, 6738M parameters\)/);
  });

  it('refuses a sweep whose one trial no worker can hold, naming the trial', async () => {
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, `${BASE}sweep:\n  grid:\n    model.dModel: [16, 65536]\n    model.nLayers: [1, 1000]\n`);
    const parsed = parseCommandLine(['sweep', file, '--address', '127.0.0.1:1'])!;
    await expect(executeSweep(parsed.args, parsed.options)).rejects.toThrow(/trial 4 \(.*dModel=65536.*nLayers=1000.*\): the run needs about /);
  });

  it('estimates a .gguf checkpoint from its header: a 4-bit file still loads as float32', async () => {
    // A GGUF header only (no tensor data): llama metadata and the tensor infos of a 7B model.
    const parts: number[] = [];
    const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(...b); };
    const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(...b); };
    const str = (t: string) => { u64(Buffer.byteLength(t)); parts.push(...Buffer.from(t)); };
    const tensors: [string, number[]][] = [['token_embd.weight', [4096, 32000]], ['output.weight', [4096, 32000]]];
    for (let l = 0; l < 32; l++) {
      for (const [name, dims] of [['attn_q', [4096, 4096]], ['attn_k', [4096, 4096]], ['attn_v', [4096, 4096]], ['attn_output', [4096, 4096]], ['ffn_gate', [4096, 11008]], ['ffn_up', [4096, 11008]], ['ffn_down', [11008, 4096]]] as const) {
        tensors.push([`blk.${l}.${name}.weight`, [...dims]]);
      }
    }
    parts.push(...Buffer.from('GGUF'));
    u32(3); u64(tensors.length); u64(7);
    str('general.architecture'); u32(8); str('llama');
    str('llama.block_count'); u32(4); u32(32);
    str('llama.embedding_length'); u32(4); u32(4096);
    str('llama.feed_forward_length'); u32(4); u32(11008);
    str('llama.attention.head_count'); u32(4); u32(32);
    str('llama.context_length'); u32(4); u32(4096);
    str('llama.vocab_size'); u32(4); u32(32000);
    for (const [name, dims] of tensors) { str(name); u32(dims.length); for (const d of dims) u64(d); u32(2); u64(0); }
    const file = join(dir, 'seven-b.gguf');
    writeFileSync(file, Buffer.from(parts));
    const yaml = BASE.replace(/model:\n(  .*\n)+/, `model:\n  checkpoint: ${file}\n  maxSeqLen: 16\n`);
    expect(await refusal(yaml)).toMatch(/weights 25,[\d]{3} MB \(model\.checkpoint: 32 layers × hidden size 4096, 6738M parameters\)/);
  });
});

