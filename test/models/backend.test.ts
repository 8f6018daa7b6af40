import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.CREDITFLOW_BACKEND;
  });

  it('picks a backend automatically and explains the skipped ones', async () => {
    const info = await initBackend();
    expect(tf.getBackend()).toBe(info.name);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    if (info.name !== 'tensorflow') expect(info.reason).toMatch(/tfjs-node/);
  });

  it('honours a forced backend and the env override', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    process.env.CREDITFLOW_BACKEND = 'wasm';
    const info = await initBackend('cpu');
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/CREDITFLOW_BACKEND/);
  });

  it('fails clearly when a forced backend is unknown', async () => {
    await expect(initBackend('tpu')).rejects.toThrow(/forced but is unavailable: unknown backend/);
  });
});
