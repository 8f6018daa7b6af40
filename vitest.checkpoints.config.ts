import { defineConfig } from 'vitest/config';

/** `npm run test:checkpoints`: the slow tests on real checkpoints (SmolLM2-135M), one file at a time. */
export default defineConfig({
  test: {
    include: ['test/checkpoints/**/*.slow.test.ts'],
    testTimeout: 3_600_000,
    fileParallelism: false,
  },
});
