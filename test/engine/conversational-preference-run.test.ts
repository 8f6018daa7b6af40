/**
 * A cDPO run on the tiny Qwen2 checkpoint whose pairs are in TRL's conversational form (chosen and
 * rejected as assistant messages, some with the prompt implicit): every step that reads the pairs
 * works on them — the critical models' SFT on the replies, the critical-token scores, the update,
 * the held-out pair metrics, and `creditflow inspect`'s page, whose tokens are the replies as the
 * chat template writes them.
 * npx vitest run test/engine/conversational-preference-run.test.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema } from '../../configs/preference-schema.js';
import { collectInspect } from '../../report/inspect-data.js';
import { encodePair } from '../../tasks/preference-pairs.js';
import { readPairs, readTokenScores } from '../../store/preference-files.js';
import { FIXTURES, referenceTokenizer } from '../models/reference-checks.js';
import { tempStateDir } from '../support/harness.js';
import { preparedPreferenceRun } from '../support/preference-run.js';

const user = (content: string) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });

/** `a+b` questions, chosen the sum and rejected one off; every third line with its prompt implicit. */
function pairsFile(): string {
  const path = join(tempStateDir('conversational-pairs'), 'pairs.jsonl');
  const lines = Array.from({ length: 12 }, (_, i) => {
    const [a, b] = [i % 5, (i * 3) % 7];
    const question = [user(`What is ${a} plus ${b}?`)];
    const [chosen, rejected] = [[assistant(`It is ${a + b}.`)], [assistant(`It is ${a + b + 1}.`)]];
    return i % 3 === 2 ? { id: `q${i}`, chosen: [...question, ...chosen], rejected: [...question, ...rejected] } : { id: `q${i}`, prompt: question, chosen, rejected };
  });
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n'));
  return path;
}

describe('a cDPO run on conversational pairs (TRL\'s form) on a chat checkpoint', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const config = PreferenceExperimentSchema.parse({
    kind: 'preference', experiment: 'chat-cdpo', seed: 2,
    data: { source: 'arithmetic', minDigits: 1, maxDigits: 1, trainSize: 16, evalSize: 4 },
    model: { checkpoint: join(FIXTURES, 'qwen2-tiny'), maxSeqLen: 96 },
    pairs: { source: 'file', path: pairsFile(), heldOut: { fraction: 0.25, seed: 0 } },
    warmStart: { steps: 1, batchSize: 4 }, optimizer: { batchSize: 4, lr: 1e-3 }, run: { steps: 1, checkpointEvery: 1 },
    evaluation: { maxNewTokens: 4 },
    objective: { name: 'critical-token-dpo', auxiliary: { steps: 1, batchSize: 4 } },
  });
  const noProgress = () => undefined;

  it('trains the critical models on the replies, scores their tokens, steps, evaluates and inspects', async () => {
    const run = preparedPreferenceRun(config, 'chat-cdpo');
    const tok = referenceTokenizer('qwen2-tiny');
    const train = readPairs(run.runDir, 'train', { tokenizer: tok, maxSeqLen: 96 });
    expect(train.every((p) => Array.isArray(p.prompt) && Array.isArray(p.chosen))).toBe(true);

    await run.sessions.warmStart(run.args, noProgress);
    for (const role of ['positive', 'negative'] as const) {
      const r = await run.sessions.trainCriticalModel({ ...run.args, role }, noProgress);
      expect(Number.isFinite(r.metrics[`critical/${role}Loss`]), role).toBe(true);
    }
    await run.sessions.scoreCriticalTokens(run.args, noProgress);
    const scores = readTokenScores(run.runDir, 'critical-tokens')!;
    // One score per rejected token, the template's turn end included.
    for (const p of train) expect(scores.scores[p.id].rejected, p.id).toHaveLength(encodePair(tok, p).rejected.length);

    const step = await run.sessions.update({ ...run.args, step: 1 }, noProgress);
    expect(Number.isFinite(step.metrics['update/loss'])).toBe(true);
    const evaluation = await run.sessions.evaluate({ ...run.args, step: 1 });
    expect(Number.isFinite(evaluation.metrics['eval/chosenLogp'])).toBe(true);

    const page = collectInspect('r', run.runDir, { pair: train[0].id });
    const [chosen] = page.responses;
    expect(chosen.text).toBe(`${(train[0].chosen as { content: string }[])[0].content}<|im_end|>\n`);
    expect(chosen.tokens).toHaveLength(encodePair(tok, train[0]).chosen.length);
    expect(page.responses[1].tokens.every((t) => Number.isFinite(t.criticalScore))).toBe(true);
    run.sessions.release('r');
  }, 120_000);
});
