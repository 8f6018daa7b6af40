/**
 * A real Ray head for one test file: started in `beforeAll` (installing Ray into the project's
 * cache first if it is not there), stopped in `afterAll`.
 */
import { afterAll, beforeAll } from 'vitest';
import { startLocalRayHead, type LocalRayHead } from '../../scripts/ray/local-head.js';

/** Install (first time only, ~2 min) plus a head start under load. */
const START_TIMEOUT_MS = 600_000;

export function useRayHead(options: Parameters<typeof startLocalRayHead>[0] = {}): { readonly head: LocalRayHead } {
  const holder: { head?: LocalRayHead } = {};
  beforeAll(async () => {
    holder.head = await startLocalRayHead(options);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await holder.head?.stop();
  }, 60_000);
  return {
    get head() {
      if (!holder.head) throw new Error('the Ray head is not started');
      return holder.head;
    },
  };
}

export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
