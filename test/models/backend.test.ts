import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';

describe('initBackend', () => {
  // CI runs this file once more with CREDITFLOW_BACKEND=wasm; each test sets the variable itself.
  const forcedByCaller = process.env.CREDITFLOW_BACKEND;
  beforeEach(() => {
    delete process.env.CREDITFLOW_BACKEND;
  });
  afterEach(() => {
    if (forcedByCaller === undefined) delete process.env.CREDITFLOW_BACKEND;
    else process.env.CREDITFLOW_BACKEND = forcedByCaller;
  });

  it('picks a backend automatically and explains the skipped ones', async () => {
    const info = await initBackend();
    expect(tf.getBackend()).toBe(info.name);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    if (info.name !== 'tensorflow') expect(info.reason).toMatch(/tfjs-node/);
    else expect(info.reason).toMatch(/native CPU, \d+ intra-op threads?/);
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
