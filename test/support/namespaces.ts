/**
 * One namespace per integration test file on the shared test server. Test files run in parallel;
 * workers poll queues by name, so two files in one namespace could pick up each other's runs.
 */
export const TEST_NAMESPACES = [
  'training-run', 'worker-crash', 'heartbeat', 'cli', 'cli-submit', 'determinism', 'sweeps', 'report', 'browser', 'objectives', 'spare',
  'preference-run', // test/integration/preference-run.test.ts
  'cli-lifecycle', // test/cli/run-lifecycle.test.ts
  'tracking', // test/tracking/trackers.test.ts
  'data-sets', // test/integration/data-sets.test.ts
  'ray', // test/ray/ray-run.test.ts
] as const;

export type TestNamespace = (typeof TEST_NAMESPACES)[number];
