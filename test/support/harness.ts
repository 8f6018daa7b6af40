/** Helpers for integration tests: a client on the shared test server, a temp state folder, configs. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { inject } from 'vitest';
import { loadConfigFile } from '../../configs/load.js';
import { ExperimentSchema, type ExperimentConfig } from '../../configs/schema.js';
import { progressQuery, type RunProgress } from '../../workflows/shared.js';
import type { TestNamespace } from './namespaces.js';

export const testAddress = () => inject('temporalAddress');

export async function testClient(namespace: TestNamespace): Promise<Client> {
  const connection = await Connection.connect({ address: testAddress() });
  return new Client({ connection, namespace });
}

/** Where an in-process test worker connects: the shared server, the file's own namespace. */
export const testTarget = (namespace: TestNamespace) => ({ address: testAddress(), namespace });

export const tempStateDir = (label: string) => mkdtempSync(join(tmpdir(), `cf-${label}-`));

export const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

type Overrides = Record<string, Record<string, unknown> | string | number>;

/** The tiny test config with overrides merged in (validated like any config). */
export const tinyConfig = (overrides: Overrides = {}) => fixtureConfig('tiny.yaml', overrides);

/** A tiny config whose updates take real optimizer steps (rewards vary within groups). */
export const learningTinyConfig = (overrides: Overrides = {}) => fixtureConfig('learning-tiny.yaml', overrides);

/** A config from test/fixtures with overrides merged in, one level deep per section. */
function fixtureConfig(file: string, overrides: Overrides): ExperimentConfig {
  const base = loadConfigFile(join(PROJECT, 'test/fixtures', file)) as Record<string, unknown>;
  const merged: Record<string, unknown> = JSON.parse(JSON.stringify(base));
  for (const [k, v] of Object.entries(overrides)) {
    merged[k] = typeof v === 'object' ? { ...(merged[k] as object), ...v } : v;
  }
  return ExperimentSchema.parse(merged);
}

export const uniqueId = (label: string) => `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/**
 * The run's progress once `predicate` holds, polled every `pollMs` (600 polls at most; a query that
 * fails, as before the workflow's first task, counts as not yet).
 */
export async function progressWhen(handle: WorkflowHandle, predicate: (p: RunProgress) => boolean, pollMs = 200): Promise<RunProgress> {
  for (let i = 0; i < 600; i++) {
    const p: RunProgress | null = await handle.query(progressQuery).catch(() => null);
    if (p && predicate(p)) return p;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error('condition not reached');
}
