/**
 * The prompt sample a run keeps in its folder (engine/policy.ts, shown by `creditflow status`): the
 * text the model gets for a training row, chat template applied, and its token ids.
 * npx vitest run test/models/prompt-sample.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPromptSample, writePromptSample } from '../../engine/policy.js';
import { loadHfCheckpoint } from '../../models/llama/checkpoint.js';
import { CharTokenizer } from '../../models/tokenizer.js';
import { FIXTURES, readExpected } from './reference-checks.js';

const root = mkdtempSync(join(tmpdir(), 'creditflow-prompt-sample-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('prompt sample', () => {
  it('keeps the chat-rendered text and ids transformers gives for the row', async () => {
    const ck = await loadHfCheckpoint(join(FIXTURES, 'qwen2-tiny'));
    ck.model.dispose();
    const chat = readExpected('qwen2-tiny').chats[1];
    writePromptSample(root, ck.tokenizer!, chat.messages);
    expect(readPromptSample(root)).toEqual({ prompt: chat.messages, rendered: chat.rendered, ids: chat.ids });
  });

  it('keeps text prompts as they are, and is absent from a folder without one', () => {
    writePromptSample(root, new CharTokenizer(), '12+7=');
    expect(readPromptSample(root)).toMatchObject({ rendered: '12+7=', ids: new CharTokenizer().encodePrompt('12+7=') });
    expect(readPromptSample(join(root, 'nothing-here'))).toBeUndefined();
  });
});
