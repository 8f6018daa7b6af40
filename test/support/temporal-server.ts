/**
 * vitest global setup: one real Temporal dev server (in memory, headless, on a free port) for every
 * integration test, with a namespace per test file (see namespaces.ts).
 */
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../../server/dev-server.js';
import { TEST_NAMESPACES } from './namespaces.js';

let server: DevServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startDevServer({ port: 'free', headless: true, extraNamespaces: [...TEST_NAMESPACES], log: () => undefined });
  project.provide('temporalAddress', server.address);
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}
