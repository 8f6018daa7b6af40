/**
 * Workflow code must stay sandbox-pure: the Temporal bundler builds it, and every import is either
 * the workflow SDK, a type-only import, or another workflow module.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

const workflowsDir = fileURLToPath(new URL('../../workflows/', import.meta.url));
const ALLOWED = new Set(['@temporalio/workflow', '@temporalio/common']);

/** Value imports of a module (type-only imports are erased and therefore allowed). */
export function valueImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*import\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) if (!m[1]) found.push(m[2]);
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]);
  for (const m of source.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]);
  return found;
}

describe('workflows/ purity', () => {
  it('imports only the workflow SDK and other workflow modules', () => {
    const files = readdirSync(workflowsDir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(2);
    for (const file of files) {
      for (const spec of valueImports(readFileSync(join(workflowsDir, file), 'utf8'))) {
        const ok = ALLOWED.has(spec) || (spec.startsWith('./') && !spec.includes('/..'));
        expect(ok, `${file} imports '${spec}'`).toBe(true);
      }
    }
  });

  it('the import scan catches a forbidden import', () => {
    expect(valueImports("import { readFileSync } from 'node:fs';\nimport type { X } from '../activities/index.js';"))
      .toEqual(['node:fs']);
  });

  it('bundles with the Temporal bundler', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: join(workflowsDir, 'index.ts'), logger: quietLogger });
    expect(code).toContain('trainingRun');
  }, 120_000);

  it('the bundler rejects workflow code that imports a Node built-in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-bad-wf-'));
    writeFileSync(join(dir, 'index.ts'), "import { readFileSync } from 'node:fs';\nexport async function bad() { return readFileSync('x'); }\n");
    await expect(bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), logger: quietLogger })).rejects.toThrow();
  }, 120_000);
});

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
